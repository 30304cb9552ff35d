/**
 * Preact with htm templates. Everything is rendered as text or attributes by Preact, which
 * escapes it: task args, results, errors, names and queue names never become HTML (the UI
 * never uses innerHTML or dangerouslySetInnerHTML).
 */
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
