/** The HTML shell the browser loads; the UI script renders everything inside it. */
export { STYLES } from "./styles.ts";

/** The page for a dashboard served under `basePath` (already validated: no characters to escape). */
export function pageHtml(basePath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="stem-base-path" content="${basePath}">
<title>Stem dashboard</title>
<link rel="stylesheet" href="${basePath}/assets/app.css">
<script type="module" src="${basePath}/assets/app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the Stem dashboard…</p></div>
<noscript>The Stem dashboard needs JavaScript; the JSON API is at ${basePath}/api/openapi.json.</noscript>
</body>
</html>
`;
}
