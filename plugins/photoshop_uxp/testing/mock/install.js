/**
 * Make `require("photoshop")` and `require("uxp")` return the in-memory stand-ins, so the
 * shipped panel modules run unchanged under Node. Require this before any module of src/.
 */
"use strict";

const Module = require("node:module");
const photoshop = require("./photoshop");
const uxp = require("./uxp");

const STAND_INS = { photoshop, uxp };
const load = Module._load;
Module._load = function loadWithStandIns(request, parent, isMain) {
  if (Object.prototype.hasOwnProperty.call(STAND_INS, request)) return STAND_INS[request];
  return load.call(this, request, parent, isMain);
};

module.exports = { photoshop, uxp };
