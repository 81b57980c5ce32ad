/**
 * The panel's model choice, from the engine's model list (`welcome.models` or a `models` reply):
 * the same rules as the Python plug-ins' wire/client/models.py.
 *
 * - `modelChoices(models)`: the engine's default first, then the other models whose files are on
 *   the engine's machine, then the absent ones (not selectable, with a hint where the file goes);
 * - `pick(choices, wanted)`: the model to send: `wanted` while it is selectable, else the default.
 *
 * Engines before model choice sent no `default` flag: their one `loaded` model is the default.
 */
"use strict";

const ABSENT_HINT = "not on the engine's machine: put its file in rembg's model folder ($U2NET_HOME or ~/.u2net; "
  + "`softcut models list` says where), then reconnect";

/**
 * @param {Array<object>} models the engine's list: {name, default, loaded, present, licence, description}
 * @returns {Array<{name: string, label: string, enabled: boolean, hint: string, isDefault: boolean}>}
 */
function modelChoices(models) {
  const listed = (Array.isArray(models) ? models : []).filter((m) => m && typeof m.name === "string" && m.name);
  const flagged = listed.some((m) => "default" in m);
  const isDefault = (m) => Boolean(flagged ? m.default : m.loaded);
  const defaults = [], present = [], absent = [];
  for (const m of listed) {
    const about = ["description", "licence"].filter((k) => m[k]).map((k) => String(m[k])).join(", ");
    if (isDefault(m)) defaults.push({ name: m.name, label: `${m.name} (default)`, enabled: true, hint: about, isDefault: true });
    else if ("present" in m ? m.present : m.loaded) present.push({ name: m.name, label: m.name, enabled: true, hint: about, isDefault: false });
    else absent.push({ name: m.name, label: `${m.name} (not installed)`, enabled: false, hint: `${m.name}: ${ABSENT_HINT}`, isDefault: false });
  }
  return [...defaults.slice(0, 1), ...present, ...absent];
}

/**
 * @param {Array<{name: string, enabled: boolean, isDefault: boolean}>} choices from `modelChoices`
 * @param {string|null} wanted what the user picked before
 * @returns {string|null} the model to request (null: none known, the engine runs its default)
 */
function pick(choices, wanted) {
  if (wanted && choices.some((c) => c.name === wanted && c.enabled)) return wanted;
  const found = choices.find((c) => c.isDefault);
  return found ? found.name : null;
}

module.exports = { ABSENT_HINT, modelChoices, pick };
