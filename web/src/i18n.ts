// Translations: i18next with bundled locale files, the active language kept in a signal so any
// component that calls t() re-renders when the language changes.
import { signal } from '@preact/signals';
import i18next, { type TOptions } from 'i18next';
import en from './locales/en.json';
import es from './locales/es.json';
import fr from './locales/fr.json';

export const kLanguages = ['en', 'fr', 'es'] as const;
export type Language = (typeof kLanguages)[number];

const kStorageKey = 'ruche.language';

// `satisfies` makes the typecheck fail when a locale misses a key that English has.
const resources = {
  en: { translation: en },
  fr: { translation: fr satisfies typeof en },
  es: { translation: es satisfies typeof en },
};

function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (kLanguages as readonly string[]).includes(value);
}

function storedLanguage(): Language | null {
  try {
    const value = localStorage.getItem(kStorageKey);
    return isLanguage(value) ? value : null;
  } catch {
    return null; // storage disabled (privacy mode): fall back to the browser's languages
  }
}

/** The saved choice first, then the first of the browser's languages we have, then English. */
function detectLanguage(): Language {
  const stored = storedLanguage();
  if (stored) return stored;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const base = tag?.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

export const language = signal<Language>(detectLanguage());

export function initI18n(): void {
  // initAsync: false — resources are bundled, so t() works as soon as init returns.
  void i18next.init({
    lng: language.value,
    fallbackLng: 'en',
    supportedLngs: [...kLanguages],
    resources,
    initAsync: false,
    interpolation: { escapeValue: false }, // Preact escapes text content itself
  });
}

/** Switches the UI language and remembers the choice for the next visit. */
export function setLanguage(next: Language): void {
  try {
    localStorage.setItem(kStorageKey, next);
  } catch {
    // the choice just will not survive a reload
  }
  void i18next.changeLanguage(next);
  language.value = next;
}

/** Translates `key`; reading the language signal subscribes the calling component. */
export function t(key: string, options?: TOptions): string {
  return i18next.t(key, { ...options, lng: language.value });
}

/** A language's own name ("Français"), from its own locale file. */
export function nativeName(lng: Language): string {
  return i18next.t('meta.native_name', { lng });
}
