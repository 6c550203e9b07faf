import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { t } from '../i18n';

interface Props {
  text: string;
  /** The accessible name: "Copy the link to Intro call". */
  label: string;
}

/** Copies `text` to the clipboard and says so (politely) for a few seconds. */
export function CopyButton({ text, label }: Props) {
  const state = useSignal<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state.value === 'idle') return;
    const timer = setTimeout(() => (state.value = 'idle'), 3000);
    return () => clearTimeout(timer);
  }, [state.value]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      state.value = 'copied';
    } catch {
      state.value = 'failed'; // no clipboard permission: the text is on screen to select
    }
  }

  return (
    <span class="copy-button">
      <button type="button" class="button button--small" aria-label={label} onClick={copy}>
        {t('calendar.copy')}
      </button>
      <span class="copy-button__status" role="status">
        {state.value === 'copied' ? t('calendar.copied') : null}
        {state.value === 'failed' ? t('calendar.copy_failed') : null}
      </span>
    </span>
  );
}
