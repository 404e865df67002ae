import * as core from '@actions/core';
import { escapeLog } from '../render/escape.js';

type AnnotationProperties = core.AnnotationProperties;

/**
 * The runner's log, the only way the Action writes to it. Every message passes through escapeLog:
 * `core.info` writes its text raw, and the runner executes a line of it that starts with `::add-mask::`
 * or `::stop-commands::`, or holds a legacy `##[…]` command, so a grant file, a PR or an API could
 * otherwise command the runner. Annotations use core's own commands, which escape their data and
 * properties; their text is escaped all the same (controls and bidi characters in the log viewer).
 */
export const runnerLog = {
  info(text: string): void {
    core.info(escapeLog(text));
  },
  debug(text: string): void {
    core.debug(escapeLog(text));
  },
  warning(text: string, props?: AnnotationProperties): void {
    core.warning(escapeLog(text), props && escapeProps(props));
  },
  error(text: string, props?: AnnotationProperties): void {
    core.error(escapeLog(text), props && escapeProps(props));
  },
  startGroup(name: string): void {
    core.startGroup(escapeLog(name));
  },
  endGroup(): void {
    core.endGroup();
  },
  /** Fails the step: called once, by the entry point. */
  setFailed(text: string): void {
    core.setFailed(escapeLog(text));
  },
};

function escapeProps(props: AnnotationProperties): AnnotationProperties {
  return {
    ...props,
    ...(props.title !== undefined ? { title: escapeLog(props.title) } : {}),
    ...(props.file !== undefined ? { file: escapeLog(props.file) } : {}),
  };
}
