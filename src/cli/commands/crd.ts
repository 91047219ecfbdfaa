import { Command } from 'commander';
import { renderCrdYaml } from '../../plan/crd';
import type { CliContext } from '../context';

/** `trafficshift crd`: the CRD as YAML; `make manifests` writes it to manifests/crd.yaml. */
export function crdCommand(ctx: CliContext): Command {
  return new Command('crd')
    .description('print the MigrationPlan CustomResourceDefinition as YAML (generated from the schema)')
    .action(() => {
      ctx.stdout.write(renderCrdYaml());
    });
}
