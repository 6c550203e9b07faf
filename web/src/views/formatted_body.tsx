import { useContext, useLayoutEffect, useRef } from 'preact/hooks';
import { ChatContext } from '../chat/chat_context';
import { sanitizeHtml } from '../chat/sanitize_html';

/**
 * A message's formatted_body, sanitized by the allow-list in chat/sanitize_html.ts. The nodes
 * DOMPurify returns are moved in as they are: the HTML string itself never reaches innerHTML.
 * Mentions of people show as pills, the reader's own highlighted.
 */
export function FormattedBody({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const ownUserId = useContext(ChatContext)?.userId ?? null;
  useLayoutEffect(() => {
    ref.current?.replaceChildren(sanitizeHtml(html, ownUserId));
  }, [html, ownUserId]);
  return <div class="message__body message__body--html" ref={ref} />;
}
