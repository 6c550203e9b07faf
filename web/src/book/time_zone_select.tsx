// The visitor's time zone: detected from the browser, changeable among every zone it knows.
import type { Signal } from '@preact/signals';
import { useMemo } from 'preact/hooks';
import { language, t } from '../i18n';
import { timeZoneList, zoneLabel } from './zoned_dates';

interface Props {
  id: string;
  zone: Signal<string>;
}

export function TimeZoneSelect({ id, zone }: Props) {
  const lng = language.value;
  const current = zone.value;
  // ~420 zones: their labels (with today's offset) are built once per language.
  const options = useMemo(
    () => timeZoneList([current]).map((value) => ({ value, label: zoneLabel(value, lng) })),
    [lng, current],
  );
  return (
    <div class="field time-zone-select">
      <label for={id}>{t('booking.time_zone')}</label>
      <select
        id={id}
        value={current}
        aria-describedby={`${id}-hint`}
        onChange={(event) => (zone.value = event.currentTarget.value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <p id={`${id}-hint`} class="field__hint">
        {t('booking.time_zone_hint')}
      </p>
    </div>
  );
}
