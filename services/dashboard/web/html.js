// htm bound to preact: JSX-like templates in plain JavaScript, no compile step.
import { h } from 'preact';
import htm from 'htm';
export const html = htm.bind(h);
