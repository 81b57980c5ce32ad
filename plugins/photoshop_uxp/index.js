/** The panel's entry script (loaded by index.html): build the panel on this page and start it. */
"use strict";

const { Panel } = require("./panel");

const panel = new Panel(document);
panel.start().catch((error) => {
  document.getElementById("message").textContent = `Softcut panel failed to start: ${error.message}`;
});
