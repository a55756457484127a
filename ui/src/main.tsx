// Entry point of the web inbox.
import { render } from 'preact';
import { App } from './components/App.tsx';
import './styles.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
