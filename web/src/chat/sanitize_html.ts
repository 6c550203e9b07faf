// Every formatted_body received goes through this allow-list before it reaches the DOM: a
// message is written by someone else and may carry scripts, event handlers, javascript: links,
// frames or styles. DOMPurify parses it in an inert document and keeps only what is listed here.
import DOMPurify from 'dompurify';
import { userIdFromPermalink } from './mentions';

const kAllowedTags = [
  'a', 'b', 'blockquote', 'br', 'code', 'del', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'i',
  'li', 'ol', 'p', 'pre', 'span', 'strong', 'ul',
];
// Links go out only to the web or to mail: no javascript:, data:, relative or custom schemes.
const kAllowedUri = /^(?:https?:|mailto:)/i;

// A private instance, so these hooks never apply to anyone else's use of DOMPurify.
const purify = DOMPurify(window);

purify.addHook('uponSanitizeAttribute', (node, data) => {
  const name = data.attrName;
  if (name.startsWith('data-')) {
    // Matrix's data-mx-* (colour, spoiler…) on spans only; other data attributes go.
    data.keepAttr = node.nodeName === 'SPAN' && name.startsWith('data-mx-');
  } else if (name === 'href') {
    data.keepAttr = node.nodeName === 'A' && kAllowedUri.test(data.attrValue.trim());
  }
});

purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/**
 * A fragment holding only allowed elements and attributes of `html`. Links to a person
 * (https://matrix.to/#/@user:server, spec "Mentions") become mention pills: spans with no link
 * at all, so a mention never navigates away; `ownUserId`'s are marked as mentioning the reader.
 */
export function sanitizeHtml(html: string, ownUserId: string | null = null): DocumentFragment {
  const fragment = purify.sanitize(html, {
    ALLOWED_TAGS: kAllowedTags,
    ALLOWED_ATTR: ['href'],
    ALLOW_DATA_ATTR: true,
    ALLOWED_URI_REGEXP: kAllowedUri,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    // The reply fallback repeats the message answered: we show our own quote instead.
    ADD_FORBID_CONTENTS: ['mx-reply'],
    RETURN_DOM_FRAGMENT: true,
  });
  for (const link of fragment.querySelectorAll('a[href]')) {
    const userId = userIdFromPermalink(link.getAttribute('href') ?? '');
    if (!userId) continue;
    const pill = document.createElement('span');
    pill.className = userId === ownUserId ? 'mention-pill mention-pill--me' : 'mention-pill';
    pill.title = userId;
    pill.setAttribute('data-user-id', userId);
    pill.textContent = link.textContent || userId; // its text only: nothing nested survives
    link.replaceWith(pill);
  }
  return fragment;
}
