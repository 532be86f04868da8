// The entry module of every page: it sizes the probability bars the server drew and wires the link to share; on the
// demo page (the one with #page-data) it also wires taking an image, editing, classifying, probing, explaining and
// reporting. No libraries and no build step: each job is an ES module beside this one.
import { $ } from './dom.js';
import { sizeServerBars } from './bars.js';
import { setUpShareLink } from './share.js';
import { demoPage } from './page.js';
import { setUpLoading } from './loading.js';
import { closeCamera, setUpCamera } from './camera.js';
import { clearImage, draw, setUpEditor } from './editor.js';
import { forgetPayload } from './payload.js';
import { clearMessages } from './messages.js';
import { setUpClassSuggestions } from './classes.js';
import { leaveExample, setUpExpectedClass } from './expected.js';
import { setUpClassify } from './classify.js';
import { setUpAnalyses } from './analysis.js';
import { setUpProbe } from './probe.js';
import { setUpExplain } from './explain.js';
import { setUpReporting } from './report.js';
import { openExample } from './examples.js';

/** Clear: the camera off, no image (so no answers), no example, no messages. */
function clearAll() {
  closeCamera();
  forgetPayload();
  leaveExample();
  clearMessages();
  clearImage();
}

/** Wires the demo page, then opens its selected `example` (of the post), if any. */
function setUpDemo(example) {
  setUpLoading();
  setUpCamera();
  setUpEditor();
  setUpClassSuggestions();
  setUpExpectedClass();
  setUpClassify();
  setUpAnalyses();
  setUpProbe();
  setUpExplain();
  setUpReporting();
  $('clear').addEventListener('click', clearAll);
  // Every part is listening: show the (empty) editor and let each set its buttons.
  draw();
  if (example) openExample(example);
}

sizeServerBars();
setUpShareLink();
const page = demoPage();
if (page) setUpDemo(page.example);
