// The colour theme: System (the browser's prefers-color-scheme), Light or Dark, kept in
// localStorage. An explicit choice is a `data-theme` attribute on <html> that styles.css puts
// above its media query; System is no attribute at all, so the page follows the system even
// before this module runs. main.tsx calls initTheme() before the first render.
import { effect, signal } from '@preact/signals';

export const kThemes = ['system', 'light', 'dark'] as const;
export type Theme = (typeof kThemes)[number];

const kStorageKey = 'ruche.theme';

function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (kThemes as readonly string[]).includes(value);
}

function storedTheme(): Theme {
  try {
    const value = localStorage.getItem(kStorageKey);
    return isTheme(value) ? value : 'system';
  } catch {
    return 'system'; // storage disabled (privacy mode)
  }
}

export const theme = signal<Theme>(storedTheme());

let started = false;

/** Applies the saved theme now and every later change (this tab's, or another tab's). */
export function initTheme(): void {
  if (started) return;
  started = true;
  effect(() => {
    const root = document.documentElement;
    if (theme.value === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', theme.value);
  });
  addEventListener('storage', (event) => {
    if (event.key === kStorageKey) theme.value = storedTheme();
  });
}

/** Switches the theme and remembers it for the next visit. */
export function setTheme(next: Theme): void {
  try {
    if (next === 'system') localStorage.removeItem(kStorageKey);
    else localStorage.setItem(kStorageKey, next);
  } catch {
    // the choice just will not survive a reload
  }
  theme.value = next;
}
