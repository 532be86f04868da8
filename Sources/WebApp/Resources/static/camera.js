// Taking the demo's image with a camera: the preview, a snapshot that goes to the editor, and what to say when the
// browser offers no camera or blocks it.
import { $ } from './dom.js';
import { loadImage } from './loading.js';
import { clearMessages, showError } from './messages.js';

/** The camera's stream while the preview is open, or null. */
let stream = null;

function cameraErrorMessage(error) {
  switch (error && error.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The camera is blocked: allow it in the browser’s site settings, or choose a file instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Choose a file, drop or paste an image instead.';
    case 'NotReadableError':
      return 'The camera is in use by another application.';
    default:
      return `The camera could not be started${error && error.message ? ` (${error.message})` : ''}.`;
  }
}

async function openCamera() {
  clearMessages();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError('This browser offers no camera here (cameras need HTTPS or localhost). Choose a file instead.');
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (error) {
    showError(cameraErrorMessage(error));
    return;
  }
  const video = $('camera-video');
  video.srcObject = stream;
  $('camera').hidden = false;
  try {
    await video.play();
  } catch (error) {
    closeCamera();
    showError(cameraErrorMessage(error));
    return;
  }
  $('camera-snap').focus();
}

/** Stops the camera and hides its preview. */
export function closeCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  $('camera-video').srcObject = null;
  $('camera').hidden = true;
}

function takeSnapshot() {
  const video = $('camera-video');
  if (!video.videoWidth) {
    showError('The camera has no picture yet; try again in a moment.');
    return;
  }
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  closeCamera();
  canvas.toBlob((blob) => {
    loadImage(blob, 'camera-snapshot.png').then((loaded) => { if (loaded) $('canvas').focus(); });
  }, 'image/png');
}

export function setUpCamera() {
  $('camera-open').addEventListener('click', openCamera);
  $('camera-close').addEventListener('click', () => { closeCamera(); $('camera-open').focus(); });
  $('camera-snap').addEventListener('click', takeSnapshot);
}
