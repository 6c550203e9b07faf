import { useMemo } from 'preact/hooks';
import { language, t } from '../i18n';
import { timeZoneList, zoneLabel } from './calendar_dates';

interface Props {
  id: string;
  value: string;
  onChange: (zone: string) => void;
  hint?: string;
}

/** A select of every zone the browser knows, each with its offset today. */
export function TimeZoneField({ id, value, onChange, hint }: Props) {
  const lng = language.value;
  // ~420 zones: their labels are built once per language.
  const options = useMemo(
    () => timeZoneList([value]).map((zone) => ({ zone, label: zoneLabel(zone, lng) })),
    [lng, value],
  );
  return (
    <div class="field">
      <label for={id}>{t('calendar.time_zone')}</label>
      <select
        id={id}
        value={value}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(event) => onChange(event.currentTarget.value)}
      >
        {options.map((option) => (
          <option key={option.zone} value={option.zone}>
            {option.label}
          </option>
        ))}
      </select>
      {hint ? (
        <p id={`${id}-hint`} class="field__hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}
