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

/** The HTML for `text`, or null when the Markdown holds no formatting (plain body suffices). */
export function markdownToHtml(text: string): string | null {
  const html = (marked.parse(text) as string).trim();
  const plain = `<p>${escapeHtml(text).replace(/\n/g, '<br>')}</p>`;
  return html === plain || html === '' ? null : html;
}
