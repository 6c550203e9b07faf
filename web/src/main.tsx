import { render } from 'preact';
import { App, syncDocument } from './app';
import { initI18n } from './i18n';
import { restoreSession } from './session';
import { initTheme } from './settings/theme';
import './styles.css';

initTheme(); // before the first render: a chosen theme never flashes the other one
initI18n();
syncDocument();
render(<App />, document.getElementById('app')!);
void restoreSession();
