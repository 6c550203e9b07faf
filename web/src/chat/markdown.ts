// The composer's Markdown → the formatted_body of a message (format org.matrix.custom.html).
// HTML typed by the user is shown as text, not interpreted: a message says what was typed.
import { Marked } from 'marked';

const marked = new Marked({
  gfm: true,
  breaks: true, // a newline in the composer is a line break, as in every chat
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * The HTML for `text`, or null when the Markdown holds no formatting (plain body suffices).
 * `always`: HTML even then (a message with mentions links them), the text escaped, with `<br>`
 * for its newlines and no paragraph around it, as other clients write a one-line message.
 */
export function markdownToHtml(text: string, { always = false } = {}): string | null {
  const html = (marked.parse(text) as string).trim();
  const escaped = escapeHtml(text).replace(/\n/g, '<br>');
  if (html !== `<p>${escaped}</p>` && html !== '') return html;
  return always ? escaped : null;
}
