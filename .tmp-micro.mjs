import fs from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { signedBenchResponse } from '/work/main/dist-bench/bench/lib.js';
const key = fs.readFileSync('/work/main/fixtures/keys/idp.key','utf8');
const groups = Array.from({length:20},(_,g)=>'group-'+g);
const b64 = signedBenchResponse({ publicUrl:'http://bench.rolegate.test', issuer:'https://idp.bench.example/metadata', privateKey:key, email:'a@b.example', lastName:'X', groups, now:new Date() });
const xml = Buffer.from(b64,'base64').toString();
const doc = new DOMParser().parseFromString(xml,'text/xml');
const as = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion','Assertion')[0];
const text = as.toString();
console.log('response', xml.length, 'assertion', text.length);
function run(label, fn){ for(let i=0;i<2000;i++)fn(); const t=performance.now(); const N=10000; for(let i=0;i<N;i++)fn(); console.log(label, ((performance.now()-t)/N*1000).toFixed(1),'µs'); }
const eh = { warning(){}, error(){}, fatalError(){} };
for (let r=0;r<2;r++){
run('parse assertion locator', ()=> new DOMParser({locator:{}, errorHandler:eh}).parseFromString(text,'text/xml'));
run('parse assertion no locator', ()=> new DOMParser({errorHandler:eh}).parseFromString(text,'text/xml'));
run('parse response locator', ()=> new DOMParser({locator:{}, errorHandler:eh}).parseFromString(xml,'text/xml'));
run('toString assertion', ()=> as.toString());
}
