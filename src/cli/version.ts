export { RELEASE_ACTION_REF, VERSION } from '../model/version.js';
