import type { ComponentChildren, RefObject } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

interface Props {
  /** The id of the heading, which names the dialog. */
  titleId: string;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}

/**
 * Opens the <dialog> the returned ref is put on as a modal when the component mounts, and when
 * it unmounts closes it and gives the focus back to what had it before (the opener).
 */
export function useModal(): RefObject<HTMLDialogElement | null> {
  const ref = useRef<HTMLDialogElement>(null);
  // A layout effect: its cleanup runs as the dialog leaves the page, so focus is back on the
  // opener at once (a plain effect's cleanup may come a frame later, with focus on <body>).
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = ref.current;
    dialog?.showModal();
    return () => {
      // NOTE: close first: while a modal dialog is open the page behind it is inert, and focus()
      // on the opener would silently do nothing.
      dialog?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return ref;
}

/**
 * A modal dialog on the native <dialog>: showModal() makes the rest of the page inert, keeps Tab
 * inside and focuses the first field (or the one marked autofocus); Escape closes it; on close
 * focus goes back to what had it before (the button that opened it).
 */
export function Dialog({ titleId, title, onClose, children }: Props) {
  const ref = useModal();
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault(); // Escape: let the owner unmount us, which restores focus
        onClose();
      }}
    >
      <h2 id={titleId} class="dialog__title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
