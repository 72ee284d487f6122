// CommonJS entry of userexport (require('userexport') in Node), copied to pkg/userexport.cjs by
// scripts/build.mjs: wasm-bindgen's nodejs glue, which loads the wasm synchronously, plus the streaming
// harness that the ESM entries export too.
'use strict';
const glue = require('./userexport-node.cjs');
const { makeHarness } = require('./harness.cjs');

module.exports = { ...glue, ...makeHarness(glue) };
