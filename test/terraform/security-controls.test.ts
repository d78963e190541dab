import {
  block,
  blocks,
  loadTerraform,
  readExceptions,
  resource,
  resourcesOf,
  type Body,
  type ControlException,
  type TfTree,
} from './terraform-tree';

// The rules an IaC scanner (Checkov, tfsec, Trivy) would apply to these resources, none of which can be
// installed here; each test is named after the AWS Foundational Security Best Practices control it
// stands for. A violation passes only when terraform/README.md lists it (control and where) with a
// reason, and a listed exception must still be a violation, so the list cannot go stale.

let tree: TfTree;
let exceptions: ControlException[];
beforeAll(async () => {
  tree = await loadTerraform();
  exceptions = readExceptions();
}, 60_000);

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Every violation must be an exception listed for this control, and every listed one a violation. */
function expectFollowed(control: string, violations: readonly string[]): void {
  const listed = exceptions.filter((e) => e.control === control).map((e) => e.where);
  expect({ control, unlisted: violations.filter((v) => !listed.includes(v)) }).toEqual({ control, unlisted: [] });
  expect({ control, stale: listed.filter((l) => !violations.includes(l)) }).toEqual({ control, stale: [] });
}

/** The value an environment passes to a module input, as written. */
function envArg(env: string, mod: string, arg: string): unknown {
  return tree.dir(env).modules.get(mod)?.[arg];
}

describe('terraform/README.md exceptions', () => {
  test('every listed exception names a control, a place and a reason', () => {
    expect(exceptions.length).toBeGreaterThan(0);
    for (const e of exceptions) {
      expect(e.control).toMatch(/^[A-Za-z]+\.\d+$/);
      expect(e.where).toMatch(/^(envs|modules)\//);
      expect(e.reason.length).toBeGreaterThan(30);
    }
  });
});

describe('network', () => {
  test('EC2.2: the VPC default security group allows no traffic', () => {
    const violations = resourcesOf(tree, 'aws_default_security_group')
      .filter((r) => 'ingress' in r.body || 'egress' in r.body)
      .map((r) => r.where);
    expect(resourcesOf(tree, 'aws_default_security_group')).toHaveLength(resourcesOf(tree, 'aws_vpc').length);
    expectFollowed('EC2.2', violations);
  });

  test('EC2.6: VPC flow logging is enabled for every VPC', () => {
    const flowLogs = resourcesOf(tree, 'aws_flow_log').map((r) => String(r.body.vpc_id));
    const violations = resourcesOf(tree, 'aws_vpc')
      .filter((v) => !flowLogs.includes(`\${aws_vpc.${v.name}.id}`))
      .map((v) => v.where);
    expect(resourcesOf(tree, 'aws_vpc').length).toBeGreaterThan(0);
    expectFollowed('EC2.6', violations);
  });

  test('EC2.15: subnets do not assign public IP addresses on launch', () => {
    const violations = resourcesOf(tree, 'aws_subnet')
      .filter((s) => s.body.map_public_ip_on_launch === true || String(s.body.map_public_ip_on_launch).includes('true'))
      .map((s) => s.where);
    expectFollowed('EC2.15', violations);
  });

  test('EC2.18, EC2.19, EC2.53, EC2.54: no security group admits 0.0.0.0/0 or ::/0, on any port', () => {
    const open = (b: Body): boolean =>
      ['cidr_ipv4', 'cidr_ipv6', 'cidr_blocks', 'ipv6_cidr_blocks'].some((k) =>
        /(^|[^0-9])0\.0\.0\.0\/0|::\/0/.test(text(b[k] ?? '')),
      );
    const violations = [
      ...resourcesOf(tree, 'aws_vpc_security_group_ingress_rule').filter((r) => open(r.body)),
      ...resourcesOf(tree, 'aws_security_group_rule').filter((r) => r.body.type === 'ingress' && open(r.body)),
      ...resourcesOf(tree, 'aws_security_group').filter((r) => blocks(r.body, 'ingress').some(open)),
    ].map((r) => r.where);
    expect(resourcesOf(tree, 'aws_vpc_security_group_ingress_rule').length).toBeGreaterThan(3);
    for (const id of ['EC2.18', 'EC2.19', 'EC2.53', 'EC2.54']) expectFollowed(id, violations);
  });

  test('security groups keep their rules as separate resources, each described', () => {
    for (const sg of resourcesOf(tree, 'aws_security_group')) {
      expect({ sg: sg.where, inline: 'ingress' in sg.body || 'egress' in sg.body }).toEqual({ sg: sg.where, inline: false });
      expect(String(sg.body.description ?? '').length).toBeGreaterThan(5);
    }
    for (const type of ['aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']) {
      for (const r of resourcesOf(tree, type)) expect({ rule: r.where, described: Boolean(r.body.description) }).toEqual({ rule: r.where, described: true });
    }
  });
});

describe('database', () => {
  const instances = () => resourcesOf(tree, 'aws_db_instance');

  test('RDS.2: the database is not publicly accessible', () => {
    expect(instances().length).toBeGreaterThan(0);
    expectFollowed('RDS.2', instances().filter((i) => i.body.publicly_accessible !== false).map((i) => i.where));
  });

  test('RDS.3: storage is encrypted, with a customer-managed key', () => {
    expectFollowed(
      'RDS.3',
      instances()
        .filter((i) => i.body.storage_encrypted !== true || !/^\$\{aws_kms_key\.[a-z_]+\.arn\}$/.test(String(i.body.kms_key_id)))
        .map((i) => i.where),
    );
  });

  test('RDS.5: Multi-AZ', () => {
    expect(resource(tree.dir('modules/database'), 'aws_db_instance', 'this').multi_az).toBe('${var.multi_az}');
    const violations = tree.envs
      .filter((e) => envArg(e.dir, 'database', 'multi_az') !== true)
      .map((e) => `${e.dir}: module.database`);
    expectFollowed('RDS.5', violations);
  });

  test('RDS.8: deletion protection', () => {
    expect(resource(tree.dir('modules/database'), 'aws_db_instance', 'this').deletion_protection).toBe(
      '${var.deletion_protection}',
    );
    const violations = tree.envs
      .filter((e) => envArg(e.dir, 'database', 'deletion_protection') !== true)
      .map((e) => `${e.dir}: module.database`);
    expectFollowed('RDS.8', violations);
  });

  test('RDS.11: automatic backups of 7 days at least, and a final snapshot', () => {
    const db = resource(tree.dir('modules/database'), 'aws_db_instance', 'this');
    expect(db).toMatchObject({ backup_retention_period: '${var.backup_retention_days}', skip_final_snapshot: false });
    const violations = tree.envs
      .filter((e) => !(Number(envArg(e.dir, 'database', 'backup_retention_days')) >= 7))
      .map((e) => `${e.dir}: module.database`);
    expectFollowed('RDS.11', violations);
  });

  test('RDS.6, RDS.10, RDS.13, RDS.36: enhanced monitoring, IAM authentication, minor upgrades, PostgreSQL logs exported', () => {
    for (const i of instances()) {
      expect(Number(i.body.monitoring_interval)).toBeGreaterThan(0);
      expect(i.body.iam_database_authentication_enabled).toBe(true);
      expect(i.body.auto_minor_version_upgrade).toBe(true);
      expect(i.body.enabled_cloudwatch_logs_exports).toEqual(expect.arrayContaining(['postgresql']));
    }
    for (const id of ['RDS.6', 'RDS.10', 'RDS.13', 'RDS.36']) expectFollowed(id, []);
  });
});

describe('broker', () => {
  const brokers = () => resourcesOf(tree, 'aws_mq_broker');

  test('MQ.3: automatic minor version upgrades', () => {
    expect(brokers().length).toBeGreaterThan(0);
    expectFollowed('MQ.3', brokers().filter((b) => b.body.auto_minor_version_upgrade !== true).map((b) => b.where));
  });

  test('MQ.6: RabbitMQ brokers use cluster deployment mode', () => {
    const violations = tree.envs
      .filter((e) => envArg(e.dir, 'broker', 'deployment_mode') !== 'CLUSTER_MULTI_AZ')
      .map((e) => `${e.dir}: module.broker`);
    expectFollowed('MQ.6', violations);
  });

  test('brokers are private and encrypted with a customer-managed key', () => {
    for (const b of brokers()) {
      expect(b.body.publicly_accessible).toBe(false);
      expect(block(b.body, 'encryption_options').use_aws_owned_key).toBe(false);
    }
  });
});

describe('ECS', () => {
  const compute = () => tree.dir('modules/compute');
  const containerLocals = (): Array<[string, string]> =>
    ['hub_container', 'agent_container', 'key_writer_container'].map((n) => [n, text(compute().locals[n])]);
  const containerName = (local: string): string =>
    ({ hub_container: 'loanhub', agent_container: 'cloudwatch-agent', key_writer_container: 'sftp-key-writer' })[local] ??
    local;

  test('the task definitions are made of exactly these containers', () => {
    expect(text(compute().locals.containers)).toContain('[local.hub_container[service]]');
    expect(text(compute().locals.containers)).toContain('[for agent in [lookup(local.agent_container, service, null)] : agent if agent != null]');
    expect(text(compute().locals.containers)).toContain('[local.key_writer_container]');
    expect(resource(compute(), 'aws_ecs_task_definition', 'service').container_definitions).toBe(
      '${jsonencode(local.containers[each.key])}',
    );
  });

  test('ECS.2: services do not assign public IP addresses', () => {
    const violations = resourcesOf(tree, 'aws_ecs_service')
      .filter((s) => block(s.body, 'network_configuration').assign_public_ip !== false)
      .map((s) => s.where);
    expect(resourcesOf(tree, 'aws_ecs_service').length).toBeGreaterThan(0);
    expectFollowed('ECS.2', violations);
  });

  test('ECS.3: task definitions do not share the host process namespace', () => {
    expectFollowed(
      'ECS.3',
      resourcesOf(tree, 'aws_ecs_task_definition')
        .filter((t) => t.body.pid_mode === 'host' || t.body.network_mode !== 'awsvpc')
        .map((t) => t.where),
    );
  });

  test('ECS.4: containers run unprivileged', () => {
    const violations = containerLocals()
      .filter(([, t]) => !/privileged"?\s*[:=]\s*false/.test(t) || /privileged"?\s*[:=]\s*true/.test(t))
      .map(([n]) => `modules/compute: ${containerName(n)}`);
    expectFollowed('ECS.4', violations);
  });

  test('ECS.5: containers have read-only root file systems', () => {
    const violations = containerLocals()
      .filter(([, t]) => !/readonlyRootFilesystem"?\s*[:=]\s*true/.test(t))
      .map(([n]) => `modules/compute: ${containerName(n)}`);
    expectFollowed('ECS.5', violations);
  });

  test('ECS.8: no secret in a plain environment variable', () => {
    // The hub's container: see wiring.test.ts (catalogue secrets only through `secrets`). Every
    // container: no credential-looking name outside its `secrets` list.
    const credential = /"?name"?\s*[:=]\s*"[A-Z0-9_]*(SECRET|PASSWORD|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*"/;
    const withoutSecrets = (t: string): string => t.replace(/"?secrets"?\s*[:=]\s*\[[^\]]*\]/g, '');
    const violations = containerLocals()
      .filter(([, t]) => credential.test(withoutSecrets(t)))
      .map(([n]) => `modules/compute: ${containerName(n)}`);
    expect((compute().locals.key_writer_container as Body).secrets).toEqual([
      { name: 'SFTP_PRIVATE_KEY', valueFrom: '${var.secret_arns.mainframe_sftp_key}' },
    ]);
    expect(credential.test(text(compute().locals.key_writer_container))).toBe(true);
    expectFollowed('ECS.8', violations);
  });

  test('ECS.9: every container logs to CloudWatch', () => {
    const violations = containerLocals()
      .filter(([, t]) => !/logConfiguration"?\s*[:=]\s*\{\s*"?logDriver"?\s*[:=]\s*"awslogs"/.test(t))
      .map(([n]) => `modules/compute: ${containerName(n)}`);
    expectFollowed('ECS.9', violations);
  });

  test('ECS.10: Fargate services run the latest platform version', () => {
    expectFollowed(
      'ECS.10',
      resourcesOf(tree, 'aws_ecs_service')
        .filter((s) => s.body.platform_version !== 'LATEST')
        .map((s) => s.where),
    );
  });

  test('ECS.12: clusters use Container Insights', () => {
    const violations = resourcesOf(tree, 'aws_ecs_cluster')
      .filter((c) => !blocks(c.body, 'setting').some((s) => s.name === 'containerInsights' && s.value === 'enabled'))
      .map((c) => c.where);
    expectFollowed('ECS.12', violations);
  });

  test('task and execution roles: no wildcard action, and the task roles name their resources', () => {
    const docs = compute().data.get('aws_iam_policy_document') ?? new Map<string, Body>();
    for (const [name, doc] of docs) {
      for (const s of blocks(doc, 'statement')) {
        const actions = (s.actions as string[] | undefined) ?? [];
        expect({ doc: name, wildcard: actions.filter((a) => a === '*' || a.endsWith(':*')) }).toEqual({ doc: name, wildcard: [] });
        if (s.resources !== undefined) expect({ doc: name, resources: text(s.resources) }).not.toEqual({ doc: name, resources: '["*"]' });
      }
    }
    expect(docs.has('task')).toBe(true);
  });
});

describe('logs, keys, secrets, topics, files', () => {
  test('CloudWatch.16: log groups keep their logs a year', () => {
    const groups = resourcesOf(tree, 'aws_cloudwatch_log_group');
    expect(groups.length).toBeGreaterThan(5);
    // Modules take the retention as an input; the environments decide it.
    for (const g of groups) expect(g.body.retention_in_days).toBe('${var.log_retention_days}');
    const violations = tree.envs
      .filter((e) => !(Number(e.locals.log_retention_days) >= 365))
      .map((e) => e.dir);
    expectFollowed('CloudWatch.16', violations);
  });

  test('every log group is encrypted with the customer-managed logs key', () => {
    for (const g of resourcesOf(tree, 'aws_cloudwatch_log_group')) {
      expect({ group: g.where, key: g.body.kms_key_id }).toEqual({ group: g.where, key: '${var.logs_kms_key_arn}' });
    }
    for (const env of tree.envs) {
      for (const [name, call] of env.modules) {
        if ('logs_kms_key_arn' in call) expect({ call: name, key: call.logs_kms_key_arn }).toEqual({ call: name, key: '${module.keys.logs_key_arn}' });
      }
    }
  });

  test('KMS.4: customer-managed keys rotate', () => {
    const keys = resourcesOf(tree, 'aws_kms_key');
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expectFollowed('KMS.4', keys.filter((k) => k.body.enable_key_rotation !== true).map((k) => k.where));
  });

  test('SecretsManager.1: secrets rotate automatically', () => {
    const rotated = resourcesOf(tree, 'aws_secretsmanager_secret_rotation').map((r) => text(r.body.secret_id));
    const violations = resourcesOf(tree, 'aws_secretsmanager_secret')
      .filter((s) => !rotated.some((r) => r.includes(`aws_secretsmanager_secret.${s.name}.`)))
      .map((s) => s.where);
    expectFollowed('SecretsManager.1', violations);
  });

  test('every secret is encrypted with a customer-managed key', () => {
    for (const s of resourcesOf(tree, 'aws_secretsmanager_secret')) {
      expect({ secret: s.where, key: String(s.body.kms_key_id ?? '') }).toEqual({ secret: s.where, key: expect.stringMatching(/kms_key_arn/) });
    }
    expect(resource(tree.dir('modules/database'), 'aws_db_instance', 'this').master_user_secret_kms_key_id).toBe(
      '${aws_kms_key.database.arn}',
    );
  });

  test('SNS.1: topics are encrypted at rest', () => {
    const topics = resourcesOf(tree, 'aws_sns_topic');
    expect(topics.length).toBeGreaterThan(0);
    expectFollowed('SNS.1', topics.filter((t) => !t.body.kms_master_key_id).map((t) => t.where));
  });

  test('EFS.1, EFS.2: the batch archive is encrypted with a customer-managed key and backed up', () => {
    const fs = resourcesOf(tree, 'aws_efs_file_system');
    expectFollowed('EFS.1', fs.filter((f) => f.body.encrypted !== true || !f.body.kms_key_id).map((f) => f.where));
    const backed = resourcesOf(tree, 'aws_efs_backup_policy').map((b) => String(b.body.file_system_id));
    expectFollowed('EFS.2', fs.filter((f) => !backed.includes(`\${aws_efs_file_system.${f.name}.id}`)).map((f) => f.where));
  });

  test('EFS mounts use TLS and IAM through an access point', () => {
    const td = resource(tree.dir('modules/compute'), 'aws_ecs_task_definition', 'service');
    const volumes = text(td.dynamic);
    expect(volumes).toContain('"transit_encryption":"ENABLED"');
    expect(volumes).toContain('"iam":"ENABLED"');
  });
});

describe('edge', () => {
  const edge = () => tree.dir('modules/edge');

  test('APIGateway.1: execution logging on every method', () => {
    const all = resource(edge(), 'aws_api_gateway_method_settings', 'all');
    expect(all.method_path).toBe('*/*');
    const violations = resourcesOf(tree, 'aws_api_gateway_method_settings')
      .filter((m) => !['ERROR', 'INFO'].includes(String(block(m.body, 'settings').logging_level)))
      .map((m) => m.where);
    expectFollowed('APIGateway.1', violations);
  });

  test('APIGateway.3: stages have X-Ray tracing', () => {
    expectFollowed(
      'APIGateway.3',
      resourcesOf(tree, 'aws_api_gateway_stage')
        .filter((s) => s.body.xray_tracing_enabled !== true)
        .map((s) => s.where),
    );
  });

  test('APIGateway.4: every stage is associated with a WAF web ACL', () => {
    const associated = resourcesOf(tree, 'aws_wafv2_web_acl_association').map((a) => String(a.body.resource_arn));
    const stages = resourcesOf(tree, 'aws_api_gateway_stage');
    expect(stages.length).toBeGreaterThan(0);
    expectFollowed(
      'APIGateway.4',
      stages.filter((s) => !associated.includes(`\${aws_api_gateway_stage.${s.name}.arn}`)).map((s) => s.where),
    );
  });

  test('APIGateway.9: access logging on every stage', () => {
    expectFollowed(
      'APIGateway.9',
      resourcesOf(tree, 'aws_api_gateway_stage')
        .filter((s) => blocks(s.body, 'access_log_settings').length === 0)
        .map((s) => s.where),
    );
  });

  test('WAF.10, WAF.12: web ACLs have rules, each with CloudWatch metrics', () => {
    for (const acl of resourcesOf(tree, 'aws_wafv2_web_acl')) {
      const rules = [...blocks(acl.body, 'rule'), ...(((acl.body.dynamic as Body | undefined)?.rule as Body[] | undefined) ?? [])];
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) expect(text(r)).toContain('"cloudwatch_metrics_enabled":true');
    }
    expectFollowed('WAF.10', []);
    expectFollowed('WAF.12', []);
  });

  test('WAF.11: web ACL logging is on, with the Authorization header redacted', () => {
    const logged = resourcesOf(tree, 'aws_wafv2_web_acl_logging_configuration');
    const violations = resourcesOf(tree, 'aws_wafv2_web_acl')
      .filter((acl) => !logged.some((l) => l.body.resource_arn === `\${aws_wafv2_web_acl.${acl.name}.arn}`))
      .map((acl) => acl.where);
    expectFollowed('WAF.11', violations);
    for (const l of logged) expect(text(l.body.redacted_fields)).toContain('authorization');
    // WAF logs go to a group whose name AWS requires to start with aws-waf-logs-.
    expect(resource(edge(), 'aws_cloudwatch_log_group', 'waf').name).toMatch(/^aws-waf-logs-/);
  });

  test('ELB.6: load balancers have deletion protection', () => {
    expectFollowed(
      'ELB.6',
      resourcesOf(tree, 'aws_lb')
        .filter((lb) => lb.body.enable_deletion_protection !== true)
        .map((lb) => lb.where),
    );
  });

  test('no load balancer faces the internet', () => {
    for (const lb of resourcesOf(tree, 'aws_lb')) expect({ lb: lb.where, internal: lb.body.internal }).toEqual({ lb: lb.where, internal: true });
  });
});
