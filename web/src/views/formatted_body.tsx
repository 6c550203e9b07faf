import { useLayoutEffect, useRef } from 'preact/hooks';
import { sanitizeHtml } from '../chat/sanitize_html';

/**
 * A message's formatted_body, sanitized by the allow-list in chat/sanitize_html.ts. The nodes
 * DOMPurify returns are moved in as they are: the HTML string itself never reaches innerHTML.
 */
export function FormattedBody({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    ref.current?.replaceChildren(sanitizeHtml(html));
  }, [html]);
  return <div class="message__body message__body--html" ref={ref} />;
}
