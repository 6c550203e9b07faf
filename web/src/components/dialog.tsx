import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  /** The id of the heading, which names the dialog. */
  titleId: string;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}

/**
 * A modal dialog on the native <dialog>: showModal() makes the rest of the page inert, keeps Tab
 * inside and focuses the first field (or the one marked autofocus); Escape closes it; on close
 * focus goes back to what had it before (the button that opened it).
 */
export function Dialog({ titleId, title, onClose, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.showModal();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);
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
