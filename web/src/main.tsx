import { render } from 'preact';
import { App, syncDocument } from './app';
import { initI18n } from './i18n';
import { restoreSession } from './session';
import './styles.css';

initI18n();
syncDocument();
render(<App />, document.getElementById('app')!);
void restoreSession();
