/**
 * The layers of src/, from the inside out. An import may only point inward (or sideways where said):
 *   model            types and pure helpers: imports nothing else
 *   ports            interfaces to the outside (git, GitHub, clock, targets): model only
 *   policy, plan,    the pure core: parse, evaluate, plan at time T, fold history
 *   audit
 *   render,          views and escaping of the core's results; scaffold: the files `init` writes,
 *   scaffold         as data (both pure)
 *   apply, reaper,   use cases: run the core against ports
 *   usecases
 *   targets,         adapters: the ports implemented against real systems
 *   adapters
 *   app              the composition root: one configuration in, the adapters built, a use case run
 *   cli, action      entrypoints: parse input, call the app, render output
 * `npm run lint` fails on any import that points outward, and on any cycle.
 */
const layer = (name) => `^src/(${name})/`;
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'model-is-innermost',
      severity: 'error',
      from: { path: layer('model') },
      to: { path: '^src/', pathNot: layer('model') },
    },
    {
      name: 'ports-see-only-model',
      severity: 'error',
      from: { path: layer('ports') },
      to: { path: '^src/', pathNot: [layer('model'), layer('ports')] },
    },
    {
      name: 'core-is-pure',
      comment: 'policy, plan and audit never reach use cases, adapters, targets or entrypoints',
      severity: 'error',
      from: { path: layer('policy|plan|audit|report') },
      to: { path: layer('scaffold|apply|reaper|usecases|adapters|targets|cli|action') },
    },
    {
      name: 'scaffold-sees-only-the-model',
      comment: 'the files init writes are data: no file system, no git, no use case',
      severity: 'error',
      from: { path: layer('scaffold') },
      to: { path: '^src/', pathNot: [layer('model'), layer('scaffold')] },
    },
    {
      name: 'render-sees-only-the-core',
      comment: "views may name a use case's report type, never call into it",
      severity: 'error',
      from: { path: layer('render') },
      to: {
        path: layer('apply|reaper|usecases|adapters|targets|cli|action'),
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'use-cases-see-ports-not-adapters',
      comment: 'use cases reach git, GitHub and targets through ports; the app wires the adapters in',
      severity: 'error',
      from: { path: layer('apply|reaper|usecases') },
      to: { path: layer('adapters|targets|app') },
    },
    {
      name: 'adapters-below-the-app',
      severity: 'error',
      from: { path: layer('adapters|targets') },
      to: { path: layer('apply|reaper|usecases|app') },
    },
    {
      name: 'entrypoints-go-through-the-app',
      comment: 'cli/ and action/ build nothing: they parse input, call src/app, and render its report',
      severity: 'error',
      from: { path: layer('cli|action') },
      to: { path: layer('adapters|targets|usecases|apply|reaper'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'entrypoints-are-outermost',
      severity: 'error',
      from: { path: '^src/', pathNot: layer('cli|action') },
      to: { path: layer('cli|action') },
    },
    {
      name: 'cli-and-action-apart',
      severity: 'error',
      from: { path: layer('cli') },
      to: { path: layer('action') },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
