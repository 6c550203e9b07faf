import logoUrl from '../assets/ruche-logo.svg';
import { t } from '../i18n';

/** The honeycomb mark with the "Ruche" wordmark beside it. */
export function Logo({ size = 'medium' }: { size?: 'medium' | 'large' }) {
  return (
    <span class={`logo logo--${size}`}>
      <img class="logo__mark" src={logoUrl} alt="" />
      <span class="logo__wordmark">{t('app.name')}</span>
    </span>
  );
}
