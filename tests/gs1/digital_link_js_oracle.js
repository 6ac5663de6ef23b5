// The test-only oracle of tests/gs1/test_compression_oracle.py: GS1's digital-link.js (npm, pinned in
// package.json), run by node once for a whole batch of cases.
//
// Reads a JSON array of requests on stdin and writes a JSON array of answers, one for each, in order:
//   {"op": "compress", "uri": U, "optimise": true, "others": true} -> {"ok": compressed URI} (Utils.compressWebUri)
//   {"op": "decompress", "uri": U}                                  -> {"ok": uncompressed URI} (Utils.decompressWebUri)
//   {"op": "valid", "uri": U}                                       -> {"ok": true|false} (DigitalLink(U).isValid())
//   {"op": "tables"}                                                -> {"ok": {tableF, tableP, tableOpt}} of the toolkit it bundles
// A request that throws answers {"error": message}. Nothing here touches the network.
'use strict';

const path = require('path');

const modules = process.argv[2];
const { DigitalLink, Utils } = require(path.join(modules, 'digital-link.js'));
const Toolkit = require(
  path.join(modules, 'digital-link.js', 'lib', 'GS1DigitalLinkCompressionPrototype', 'GS1DigitalLinkToolkit'),
);

const toolkit = new Toolkit();

function answer(request) {
  switch (request.op) {
    case 'compress':
      return Utils.compressWebUri(request.uri, request.optimise, request.others);
    case 'decompress':
      return Utils.decompressWebUri(request.uri);
    case 'valid':
      return DigitalLink(request.uri).isValid();
    case 'tables':
      return { tableF: toolkit.tableF, tableP: toolkit.tableP, tableOpt: toolkit.tableOpt };
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  const answers = JSON.parse(input).map((request) => {
    try {
      return { ok: answer(request) };
    } catch (error) {
      return { error: String(error && error.message !== undefined ? error.message : error) };
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
