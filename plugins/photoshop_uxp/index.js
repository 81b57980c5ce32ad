/** The panel's entry script (loaded by index.html; at the plug-in root so `require` paths mean the same whether UXP resolves them from the page or from this file): build the panel on this page and start it. */
"use strict";

const { Panel } = require("./src/panel");

const panel = new Panel(document);
panel.start().catch((error) => {
  document.getElementById("message").textContent = `Softcut panel failed to start: ${error.message}`;
});
