import fs from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { SETTING_NAMES, SETTINGS } from '../../config/settings-catalogue';
import { CHANNELS, CORES } from '../../domain/channel';
import { laneNames } from '../../outbox/rabbitmq-topology';
import {
  block,
  blocks,
  loadTerraform,
  moduleDirOf,
  resource,
  resourcesOf,
  TERRAFORM_DIR,
  variableNamesIn,
  type Body,
  type TfTree,
} from './terraform-tree';

// The deployment's wiring, read from terraform/ as HCL: what a reviewer would check by hand, and what
// would let the deployment drift from the code (channels, scopes, variable names, queue names).

const POLICY_DIR = path.resolve(__dirname, '../../channels/policies');

interface PolicyFile {
  channel: string;
  reversal: { allowed: boolean };
  rateLimit: { perClientPerMinute: number; perIpPerMinute: number };
  allowedNetworks: string[];
}

const policies: PolicyFile[] = fs
  .readdirSync(POLICY_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(POLICY_DIR, f), 'utf8')) as PolicyFile);

let tree: TfTree;
beforeAll(async () => {
  tree = await loadTerraform();
}, 60_000);

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

describe('terraform/ layout', () => {
  test('one module per concern, each with its README, variables, outputs and provider pin', () => {
    const names = tree.modules.map((m) => m.dir.replace('modules/', '')).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'broker',
        'compute',
        'database',
        'edge',
        'identity',
        'mainframe-link',
        'network',
        'observability',
      ]),
    );
    for (const m of tree.modules) {
      const abs = path.join(TERRAFORM_DIR, m.dir);
      expect({ dir: m.dir, readme: fs.existsSync(path.join(abs, 'README.md')) }).toEqual({ dir: m.dir, readme: true });
      expect(m.files).toEqual(expect.arrayContaining(['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']));
      const aws = (m.terraform.flatMap((t) => blocks(t, 'required_providers'))[0] ?? {}).aws as Body | undefined;
      expect({ dir: m.dir, aws: aws?.version }).toEqual({ dir: m.dir, aws: expect.stringMatching(/^~> 5\./) });
    }
    expect(tree.envs.map((e) => e.dir).sort()).toEqual(['envs/dev', 'envs/prod']);
  });

  test('every module README says what it creates and names each of its inputs and outputs', () => {
    for (const m of tree.modules) {
      const readme = fs.readFileSync(path.join(TERRAFORM_DIR, m.dir, 'README.md'), 'utf8');
      // what it creates: a "Creates:" line, or (a module without resources) that it creates nothing
      const creates = m.resources.size > 0 ? /^Creates: \S/m.test(readme) : readme.includes('It creates nothing');
      expect({ module: m.dir, creates }).toEqual({ module: m.dir, creates: true });
      for (const name of [...m.variables.keys(), ...m.outputs.keys()]) {
        expect({ module: m.dir, documented: readme.includes(`\`${name}\``) ? name : `missing ${name}` }).toEqual({
          module: m.dir,
          documented: name,
        });
      }
    }
  });

  test('every variable is typed and described, every output described', () => {
    for (const d of tree.dirs.values()) {
      for (const [name, v] of d.variables) {
        expect({ where: `${d.dir} var.${name}`, type: typeof v.type }).toEqual({
          where: `${d.dir} var.${name}`,
          type: 'string',
        });
        expect({ where: `${d.dir} var.${name}`, ok: String(v.description ?? '').length > 10 }).toEqual({
          where: `${d.dir} var.${name}`,
          ok: true,
        });
      }
      for (const [name, o] of d.outputs) {
        expect({ where: `${d.dir} output.${name}`, ok: String(o.description ?? '').length > 5 }).toEqual({
          where: `${d.dir} output.${name}`,
          ok: true,
        });
      }
    }
  });

  test('every module call gives each required input, and no input the module does not have', () => {
    const META = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);
    let calls = 0;
    for (const env of tree.envs) {
      for (const [callName, call] of env.modules) {
        calls++;
        const mod = moduleDirOf(tree, env, call);
        const given = Object.keys(call).filter((k) => !META.has(k));
        const required = [...mod.variables].filter(([, v]) => !('default' in v)).map(([n]) => n);
        expect({ call: `${env.dir} module.${callName}`, missing: required.filter((r) => !given.includes(r)) }).toEqual({
          call: `${env.dir} module.${callName}`,
          missing: [],
        });
        expect({ call: `${env.dir} module.${callName}`, unknown: given.filter((g) => !mod.variables.has(g)) }).toEqual({
          call: `${env.dir} module.${callName}`,
          unknown: [],
        });
      }
      // Every output another module reads exists in that module.
      const source = JSON.stringify([...env.modules.values()]);
      for (const m of source.matchAll(/module\.([a-z_]+)\.([a-z_0-9]+)/g)) {
        const call = env.modules.get(m[1] ?? '');
        expect({ ref: m[0], call: call !== undefined }).toEqual({ ref: m[0], call: true });
        if (call)
          expect({ ref: m[0], output: moduleDirOf(tree, env, call).outputs.has(m[2] ?? '') }).toEqual({
            ref: m[0],
            output: true,
          });
      }
    }
    expect(calls).toBeGreaterThanOrEqual(2 * 10);
  });

  test('both environments use every module', () => {
    for (const env of tree.envs) {
      const used = [...env.modules.values()].map((c) => moduleDirOf(tree, env, c).dir).sort();
      expect(used).toEqual(tree.modules.map((m) => m.dir).sort());
    }
  });

  test('remote state: an S3 backend with a DynamoDB lock, configured but not created, names from a file', async () => {
    for (const env of tree.envs) {
      const backend = env.terraform.flatMap((t) => ((t.backend as Body | undefined)?.s3 as Body[] | undefined) ?? []);
      expect(backend).toHaveLength(1);
      expect(backend[0]).toMatchObject({ key: `loanhub/${path.basename(env.dir)}/terraform.tfstate`, encrypt: true });
      const example = path.join(TERRAFORM_DIR, env.dir, 'backend.hcl.example');
      const names = (await parse('backend.hcl', fs.readFileSync(example, 'utf8'))) as Body;
      expect(Object.keys(names)).toEqual(expect.arrayContaining(['bucket', 'dynamodb_table', 'region']));
      expect(resourcesOf(tree, 'aws_s3_bucket')).toEqual([]);
      expect(resourcesOf(tree, 'aws_dynamodb_table')).toEqual([]);
    }
  });
});

describe('channels: the policies, Cognito and the edge agree', () => {
  const channelsModule = (): Record<string, Body> =>
    tree.dir('modules/channels').locals.policies as unknown as Record<string, Body>;

  test('the channels module lists exactly the channels of channels/policies, and the code', () => {
    expect(Object.keys(channelsModule()).sort()).toEqual(policies.map((p) => p.channel).sort());
    expect(Object.keys(channelsModule()).sort()).toEqual([...CHANNELS].sort());
  });

  test("each channel's scopes, throttling, WAF limit and networks follow from its policy", () => {
    for (const p of policies) {
      const c = channelsModule()[p.channel] as Body;
      const scopes = ['loans:read', 'payments:write', ...(p.reversal.allowed ? ['payments:reverse'] : [])];
      expect({ channel: p.channel, ...c }).toEqual({
        channel: p.channel,
        scopes,
        rate_per_second: p.rateLimit.perClientPerMinute / 60,
        burst: (2 * p.rateLimit.perClientPerMinute) / 60,
        requests_per_ip_5min: p.rateLimit.perIpPerMinute * 5,
        allowed_networks: p.allowedNetworks,
      });
    }
  });

  test("the resource server defines the hub's scopes, and every channel's scope is one of them", () => {
    const identity = tree.dir('modules/identity');
    const scopes = Object.keys(identity.variables.get('scopes')?.default as Body).sort();
    expect(scopes).toEqual(['loans:read', 'ops:read', 'payments:reverse', 'payments:write']);
    const used = new Set(Object.values(channelsModule()).flatMap((c) => c.scopes as string[]));
    for (const s of used) expect(scopes).toContain(s);
    const server = resource(identity, 'aws_cognito_resource_server', 'hub');
    expect(text(server.dynamic)).toContain('var.scopes');
  });

  test('one Cognito app client per channel: client credentials only, a secret, the channel scopes under the resource server', () => {
    const identity = tree.dir('modules/identity');
    const client = resource(identity, 'aws_cognito_user_pool_client', 'channel');
    expect(client).toMatchObject({
      for_each: '${var.channels}',
      generate_secret: true,
      allowed_oauth_flows: ['client_credentials'],
      allowed_oauth_flows_user_pool_client: true,
      supported_identity_providers: ['COGNITO'],
    });
    expect(client.allowed_oauth_scopes).toBe(
      '${[for s in each.value.scopes : "${aws_cognito_resource_server.hub.identifier}/${s}"]}',
    );
    const pool = resource(identity, 'aws_cognito_user_pool', 'this');
    expect(block(pool, 'admin_create_user_config').allow_admin_create_user_only).toBe(true);
    for (const env of tree.envs) {
      expect(env.modules.get('identity')?.channels).toBe(
        '${{ for channel, c in module.channels.channels : channel => { scopes = c.scopes } }}',
      );
      expect(env.modules.get('edge')?.channels).toBe('${module.channels.channels}');
      expect(env.modules.get('secrets')?.channels).toBe('${module.channels.names}');
    }
  });

  test('identity gives the hub its issuer, JWKS URL and scope prefix, and the environments pass them on', () => {
    const identity = tree.dir('modules/identity');
    expect(identity.outputs.get('issuer')?.value).toBe(
      'https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}',
    );
    expect(identity.outputs.get('jwks_url')?.value).toBe(
      'https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json',
    );
    for (const env of tree.envs) {
      expect(env.modules.get('compute')).toMatchObject({
        issuer: '${module.identity.issuer}',
        jwks_url: '${module.identity.jwks_url}',
        scope_prefix: '${module.identity.scope_prefix}',
        channel_client_ids: '${module.identity.client_ids}',
        channel_allowed_networks: '${{ for channel, c in module.channels.channels : channel => c.allowed_networks }}',
      });
    }
  });

  test('the edge has a route per channel under /v1/{channel}/ with the Cognito authorizer asking for its scopes', () => {
    const edge = tree.dir('modules/edge');
    expect(resource(edge, 'aws_api_gateway_resource', 'v1').path_part).toBe('v1');
    expect(resource(edge, 'aws_api_gateway_resource', 'channel')).toMatchObject({
      for_each: '${var.channels}',
      parent_id: '${aws_api_gateway_resource.v1.id}',
      path_part: '${each.key}',
    });
    expect(resource(edge, 'aws_api_gateway_resource', 'channel_proxy')).toMatchObject({
      for_each: '${var.channels}',
      path_part: '{proxy+}',
    });
    expect(resource(edge, 'aws_api_gateway_method', 'channel')).toMatchObject({
      for_each: '${var.channels}',
      authorization: 'COGNITO_USER_POOLS',
      authorizer_id: '${aws_api_gateway_authorizer.cognito.id}',
      authorization_scopes: '${[for s in each.value.scopes : "${var.scope_prefix}${s}"]}',
    });
    const integration = resource(edge, 'aws_api_gateway_integration', 'channel');
    expect(integration).toMatchObject({ for_each: '${var.channels}', connection_type: 'VPC_LINK' });
    // The hub's route for the channel, not another channel's.
    expect(integration.uri).toBe('http://${aws_lb.internal.dns_name}:${var.hub_port}/v1/${each.key}/{proxy}');
    expect(resource(edge, 'aws_api_gateway_authorizer', 'cognito')).toMatchObject({
      type: 'COGNITO_USER_POOLS',
      provider_arns: ['${var.user_pool_arn}'],
    });
  });

  test("each channel's route has its own throttling; the stage logs access and never traces bodies", () => {
    const edge = tree.dir('modules/edge');
    const perChannel = resource(edge, 'aws_api_gateway_method_settings', 'channel');
    expect(perChannel.for_each).toBe('${var.channels}');
    expect(perChannel.method_path).toBe('${trimprefix(aws_api_gateway_resource.channel_proxy[each.key].path, "/")}/ANY');
    expect(block(perChannel, 'settings')).toMatchObject({
      throttling_rate_limit: '${each.value.rate_per_second}',
      throttling_burst_limit: '${each.value.burst}',
      data_trace_enabled: false,
    });
    expect(block(resource(edge, 'aws_api_gateway_method_settings', 'all'), 'settings').data_trace_enabled).toBe(false);
    const stage = resource(edge, 'aws_api_gateway_stage', 'live');
    expect(block(stage, 'access_log_settings').destination_arn).toBe('${aws_cloudwatch_log_group.access.arn}');
  });

  test('TLS 1.2 at least on the API domain, and the default execute-api endpoint is off', () => {
    const edge = tree.dir('modules/edge');
    expect(resource(edge, 'aws_api_gateway_domain_name', 'this').security_policy).toBe('TLS_1_2');
    expect(resource(edge, 'aws_api_gateway_rest_api', 'this').disable_execute_api_endpoint).toBe(true);
  });

  test('the WAF is associated with the stage: managed groups, a rate rule per channel, IP sets where networks are given', () => {
    const edge = tree.dir('modules/edge');
    expect(resource(edge, 'aws_wafv2_web_acl_association', 'stage')).toEqual({
      resource_arn: '${aws_api_gateway_stage.live.arn}',
      web_acl_arn: '${aws_wafv2_web_acl.this.arn}',
    });
    const groups = Object.keys(edge.locals.managed_rule_groups as Body);
    expect(groups).toEqual(
      expect.arrayContaining([
        'AWSManagedRulesCommonRuleSet',
        'AWSManagedRulesKnownBadInputsRuleSet',
        'AWSManagedRulesSQLiRuleSet',
      ]),
    );
    const acl = resource(edge, 'aws_wafv2_web_acl', 'this');
    expect(acl.scope).toBe('REGIONAL');
    const dynamicRules = (acl.dynamic as Body).rule as Body[];
    const byForEach = new Map(dynamicRules.map((r) => [String(r.for_each), r]));
    expect([...byForEach.keys()].sort()).toEqual(
      ['${local.managed_rule_groups}', '${local.restricted}', '${var.channels}'].sort(),
    );
    const rate = text(byForEach.get('${var.channels}'));
    expect(rate).toContain('rate_based_statement');
    expect(rate).toContain('rule.value.requests_per_ip_5min');
    expect(rate).toContain('/v1/${rule.key}/');
    const networks = text(byForEach.get('${local.restricted}'));
    expect(networks).toContain('not_statement');
    expect(networks).toContain('${aws_wafv2_ip_set.channel[rule.key].arn}');
    expect(edge.locals.restricted).toBe(
      '${{ for channel, c in var.channels : channel => c if length(c.allowed_networks) > 0 }}',
    );
    expect(resource(edge, 'aws_wafv2_ip_set', 'channel')).toMatchObject({
      for_each: '${local.restricted}',
      addresses: '${each.value.allowed_networks}',
    });
  });
});

describe('compute', () => {
  const compute = () => tree.dir('modules/compute');
  const cataloguedSets = { channels: CHANNELS, cores: CORES };

  test('services: serve (autoscaled, behind the edge), one worker per core, exactly one batch scheduler', () => {
    const services = text(compute().locals.services);
    expect(services).toContain('serve = { command = ["serve", "--port"');
    expect(services).toContain('"work-${core}" => { command = ["work", "--core", core');
    expect(services).toContain('batch = { command = ["batch", "schedule", "--port", tostring(var.metrics_port)]');
    expect(compute().locals.cores).toEqual([...CORES]);
    const serve = resource(compute(), 'aws_ecs_service', 'serve');
    expect(block(serve, 'load_balancer').target_group_arn).toBe('${var.target_group_arn}');
    expect(resource(compute(), 'aws_appautoscaling_target', 'serve')).toMatchObject({
      min_capacity: '${var.serve.min_count}',
      max_capacity: '${var.serve.max_count}',
    });
    const background = resource(compute(), 'aws_ecs_service', 'background');
    expect(background.desired_count).toBe('${each.key == "batch" ? 1 : var.work.count}');
    expect(background.deployment_maximum_percent).toBe('${each.key == "batch" ? 100 : 200}');
    expect(background.deployment_minimum_healthy_percent).toBe('${each.key == "batch" ? 0 : 100}');
  });

  test('health: containers check /healthz, the load balancer checks /readyz', () => {
    const hub = text(compute().locals.hub_container);
    expect(hub).toMatch(/fetch\('http:\/\/127\.0\.0\.1:\$\{p\}\/healthz'\)/);
    expect(hub).toContain('[for p in [s.port] : {');
    // Every process has a port: serve, the workers and the batch scheduler (`batch schedule --port`).
    expect(text(compute().locals.services)).not.toContain('port = null');
    const tg = resource(tree.dir('modules/edge'), 'aws_lb_target_group', 'serve');
    expect(block(tg, 'health_check')).toMatchObject({ path: '/readyz', protocol: 'HTTP' });
  });

  test('each service has its own task role and execution role, reading only its own secrets', () => {
    for (const r of ['execution', 'task']) {
      expect(resource(compute(), 'aws_iam_role', r).for_each).toBe('${local.services}');
    }
    const secrets = resource(compute(), 'aws_iam_role_policy', 'execution_secrets');
    expect(secrets.for_each).toBe('${local.services}');
    const doc = compute().data.get('aws_iam_policy_document')?.get('execution_secrets');
    expect(text(doc)).toContain('${local.secret_arns_of[each.key]}');
  });

  test('every variable a hub container gets is one the code reads (config/settings-catalogue.ts)', () => {
    const { environment, secrets, environment_of, secrets_of, hub_container, common_environment } = compute().locals;
    const found = variableNamesIn(text([environment, secrets, common_environment]), cataloguedSets);
    expect(found.unexpanded).toEqual([]);
    expect(found.names.filter((n) => !SETTING_NAMES.has(n))).toEqual([]);
    // Not vacuous: the settings that wire the hub to Cognito, the broker, the database and the mainframe.
    expect(found.names).toEqual(
      expect.arrayContaining([
        'LOANHUB_ISSUER',
        'LOANHUB_JWKS_URL',
        'LOANHUB_SCOPE_PREFIX',
        'LOANHUB_DB_URL',
        'LOANHUB_AMQP_URL',
        'LOANHUB_MAINFRAME_SFTP_URL',
        'LOANHUB_MAINFRAME_SFTP_KEY_FILE',
        'LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT',
        ...CHANNELS.map((c) => `LOANHUB_CHANNEL_${c.toUpperCase()}_CLIENT_IDS`),
        ...CHANNELS.map((c) => `LOANHUB_WEBHOOK_SECRETS_${c.toUpperCase()}`),
        ...CORES.map((c) => `LOANHUB_CORE_${c.toUpperCase()}_URL`),
      ]),
    );
    // The hub's container takes its variables from those maps and nowhere else.
    expect(text(environment_of)).not.toMatch(/LOANHUB_/);
    expect(text(secrets_of)).not.toMatch(/LOANHUB_/);
    const container = text(hub_container);
    expect(container).toContain('environment            = [for k in sort(keys(local.environment_of[service]))');
    expect(container).toContain('secrets                = [for k in sort(keys(local.secrets_of[service]))');
    expect(container).not.toMatch(/LOANHUB_|\bPORT\b/);
  });

  test('the key file the batch container reads is the file its init container writes', () => {
    const env = text(compute().locals.environment);
    expect(env).toContain('LOANHUB_MAINFRAME_SFTP_KEY_FILE         = \\"${local.key_dir}/id_key\\"');
    expect(text(compute().locals.key_writer_container)).toContain('> ${local.key_dir}/id_key');
    expect(text(compute().locals.hub_container)).toContain(
      '[{ containerName = "sftp-key-writer", condition = "SUCCESS" }]',
    );
  });
});

describe('network, database, broker, mainframe link', () => {
  test('subnets: public ones hold only the NAT gateways; tasks, database, broker and load balancer are private', () => {
    const network = tree.dir('modules/network');
    expect(network.variables.get('availability_zones')?.validation).toBeDefined();
    const publicRefs = JSON.stringify([...tree.dirs.values()].map((d) => [...d.resources.entries()]));
    const users = [...publicRefs.matchAll(/aws_subnet\.public\[[^\]]+\]\.id|public_subnet_ids/g)].map((m) => m[0]);
    // aws_subnet.public is used by the NAT gateways and their route associations only.
    expect(resource(network, 'aws_nat_gateway', 'this').subnet_id).toBe('${aws_subnet.public[each.key].id}');
    expect(users.filter((u) => u !== 'aws_subnet.public[each.key].id')).toEqual([]);
    for (const env of tree.envs) expect(JSON.stringify([...env.modules.values()])).not.toContain('public_subnet_ids');
    const endpoints = resource(network, 'aws_vpc_endpoint', 'interface');
    expect(network.variables.get('interface_endpoint_services')?.default).toEqual(
      expect.arrayContaining(['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']),
    );
    expect(endpoints.private_dns_enabled).toBe(true);
    expect(resource(network, 'aws_vpc_endpoint', 's3').vpc_endpoint_type).toBe('Gateway');
  });

  test('the database parameter group refuses connections without TLS', () => {
    const pg = resource(tree.dir('modules/database'), 'aws_db_parameter_group', 'this');
    expect(blocks(pg, 'parameter')).toEqual(
      expect.arrayContaining([
        { name: 'rds.force_ssl', value: '1' },
        { name: 'ssl_min_protocol_version', value: 'TLSv1.2' },
      ]),
    );
    expect(resource(tree.dir('modules/database'), 'aws_db_instance', 'this').parameter_group_name).toBe(
      '${aws_db_parameter_group.this.name}',
    );
  });

  test('the broker is private, encrypted with its own key, with its credentials in Secrets Manager', () => {
    const broker = tree.dir('modules/broker');
    const mq = resource(broker, 'aws_mq_broker', 'this');
    expect(mq).toMatchObject({ engine_type: 'RabbitMQ', publicly_accessible: false });
    expect(block(mq, 'encryption_options')).toEqual({
      use_aws_owned_key: false,
      kms_key_id: '${aws_kms_key.broker.arn}',
    });
    expect(resource(broker, 'aws_secretsmanager_secret_version', 'amqp_url').secret_string).toBe('${local.amqp_url}');
    for (const env of tree.envs) {
      expect((env.modules.get('compute')?.secret_arns as Body).amqp_url).toBe('${module.broker.amqp_url_secret_arn}');
    }
  });

  test("the batch task may leave the VPC only for the mainframe's SFTP port, and nothing else may reach the mainframe", () => {
    const rules = resourcesOf(tree, 'aws_vpc_security_group_egress_rule');
    const appliesToBatch = (body: Body): boolean => {
      const sg = String(body.security_group_id);
      if (sg.includes('["batch"]') || sg === '${var.batch_security_group_id}') return true;
      if (!sg.includes('[each.key]') && !sg.includes('each.value.service')) return false;
      const forEach = String(body.for_each);
      return forEach === '${local.services}' || forEach.includes('"batch"');
    };
    const batch = rules.filter((r) => appliesToBatch(r.body));
    expect(batch.map((r) => r.where).sort()).toEqual(
      [
        'modules/compute: aws_vpc_security_group_egress_rule.batch_to_efs',
        'modules/compute: aws_vpc_security_group_egress_rule.to_database',
        'modules/compute: aws_vpc_security_group_egress_rule.to_endpoints',
        'modules/compute: aws_vpc_security_group_egress_rule.to_s3',
        'modules/mainframe-link: aws_vpc_security_group_egress_rule.batch_to_sftp',
      ].sort(),
    );
    for (const r of batch) {
      if (r.where.endsWith('batch_to_sftp')) continue;
      // Inside the VPC only: another security group, or the S3 gateway endpoint's prefix list.
      expect({ rule: r.where, cidr: r.body.cidr_ipv4 ?? r.body.cidr_ipv6 ?? null }).toEqual({ rule: r.where, cidr: null });
    }
    const sftp = resource(tree.dir('modules/mainframe-link'), 'aws_vpc_security_group_egress_rule', 'batch_to_sftp');
    expect(sftp).toMatchObject({
      ip_protocol: 'tcp',
      from_port: '${var.sftp_port}',
      to_port: '${var.sftp_port}',
      cidr_ipv4: '${var.mainframe_cidr}',
    });
    expect(rules.filter((r) => r.body.cidr_ipv4 === '${var.mainframe_cidr}').map((r) => r.where)).toEqual([
      'modules/mainframe-link: aws_vpc_security_group_egress_rule.batch_to_sftp',
    ]);
    for (const env of tree.envs) {
      expect(env.modules.get('mainframe_link')).toMatchObject({
        batch_security_group_id: '${module.compute.batch_security_group_id}',
        mainframe_cidr: '${var.mainframe.cidr}',
        sftp_port: '${var.mainframe.sftp_port}',
      });
    }
  });

  test('the mainframe link: a site-to-site VPN with IKEv2, static routes to the mainframe from every private subnet', () => {
    const link = tree.dir('modules/mainframe-link');
    const vpn = resource(link, 'aws_vpn_connection', 'mainframe');
    expect(vpn).toMatchObject({ static_routes_only: true, tunnel1_ike_versions: ['ikev2'], tunnel2_ike_versions: ['ikev2'] });
    expect(resource(link, 'aws_vpn_connection_route', 'mainframe').destination_cidr_block).toBe('${var.mainframe_cidr}');
    expect(resource(link, 'aws_route', 'to_mainframe').for_each).toBe('${toset(var.private_route_table_ids)}');
    expect(resource(link, 'aws_customer_gateway', 'mainframe').type).toBe('ipsec.1');
  });
});

/**
 * The observability module's single-metric alarms, as its `alarm_definitions` local holds them: the
 * metric, what the alarm is repeated over (`per`), and its dimensions (`{key}` is the core, channel or
 * queue of each repetition). The issue's six first, then issue 13's.
 */
const ALARMS: Record<string, { metric: string; per: string; dimensions: Record<string, string>; issue13?: true }> = {
  dlq: { metric: 'MessageCount', per: 'dlq', dimensions: { Broker: '${var.broker_name}', VirtualHost: '/', Queue: '{key}' } },
  'outbox-lag': { metric: 'loanhub_outbox_lag_seconds', per: 'once', dimensions: { job: 'loanhub-serve' } },
  'night-files-overdue': { metric: 'loanhub_batch_files_overdue', per: 'once', dimensions: { job: 'loanhub-batch' } },
  'breaker-open': { metric: 'loanhub_core_breaker_state', per: 'core', dimensions: { core: '{key}' } },
  'reconciliation-breaks-open': {
    metric: 'loanhub_reconciliation_breaks_open',
    per: 'once',
    dimensions: { job: 'loanhub-batch' },
  },
  'commands-dead-lettered': {
    metric: 'loanhub_commands_dead_lettered_total',
    per: 'core',
    dimensions: { core: '{key}' },
    issue13: true,
  },
  'queue-backlog': {
    metric: 'loanhub_queue_messages',
    per: 'lane',
    dimensions: { core: '{key}', state: 'ready' },
    issue13: true,
  },
  'queue-no-consumers': { metric: 'loanhub_queue_consumers', per: 'core', dimensions: { core: '{key}' }, issue13: true },
  'queue-stats-down': { metric: 'loanhub_queue_stats_up', per: 'once', dimensions: { job: 'loanhub-serve' }, issue13: true },
  'webhook-backlog-age': {
    metric: 'loanhub_webhook_backlog_oldest_age_seconds',
    per: 'channel',
    dimensions: { channel: '{key}' },
    issue13: true,
  },
  'webhook-endpoint-disabled': {
    metric: 'loanhub_webhook_endpoint_disabled',
    per: 'channel',
    dimensions: { channel: '{key}' },
    issue13: true,
  },
  'webhook-gave-up': {
    metric: 'loanhub_webhook_deliveries_total',
    per: 'channel',
    dimensions: { channel: '{key}', outcome: 'gave_up' },
    issue13: true,
  },
  'webhook-store-down': { metric: 'loanhub_webhook_store_up', per: 'once', dimensions: { job: 'loanhub-serve' }, issue13: true },
};
const ISSUE_13_ALARMS = Object.entries(ALARMS).filter(([, a]) => a.issue13);
const metricsDoc = fs.readFileSync(path.resolve(__dirname, '../../docs/metrics.md'), 'utf8');

describe('observability', () => {
  const o = () => tree.dir('modules/observability');
  const definitions = (): Record<string, Body> => o().locals.alarm_definitions as Record<string, Body>;
  const defaultOf = (name: string): string[] => o().variables.get(name)?.default as string[];

  /** local.alarms as Terraform computes it, for the variables' defaults (the expression is pinned below). */
  const expandedAlarms = (): Map<string, Body> => {
    const instances: Record<string, readonly string[]> = {
      once: [''],
      core: defaultOf('cores'),
      lane: [...defaultOf('cores'), 'results'],
      channel: defaultOf('channels'),
      dlq: defaultOf('dead_letter_queues'),
    };
    const out = new Map<string, Body>();
    for (const [id, a] of Object.entries(definitions())) {
      for (const key of instances[String(a.per)] ?? []) {
        const name = key === '' ? id : `${id}-${key}`;
        expect({ name, unique: !out.has(name) }).toEqual({ name, unique: true });
        out.set(name, {
          ...(o().locals.alarm_defaults as Body),
          ...a,
          description: String(a.description).replaceAll('{key}', key),
          dimensions: Object.fromEntries(
            Object.entries(a.dimensions as Record<string, string>).map(([d, v]) => [d, v.replaceAll('{key}', key)]),
          ),
        });
      }
    }
    return out;
  };

  test('one definition per single-metric alarm, expanded per core, channel or queue into one resource', () => {
    expect(o().locals.alarm_instances).toEqual({
      once: [''],
      core: '${var.cores}',
      lane: '${concat(var.cores, ["results"])}',
      channel: '${var.channels}',
      dlq: '${var.dead_letter_queues}',
    });
    expect(o().locals.alarm_defaults).toEqual({
      namespace: '${var.metric_namespace}',
      periods: 1,
      missing: 'notBreaching',
    });
    expect(o().locals.alarms).toBe(
      '${merge([\n    for id, a in local.alarm_definitions : {\n      for key in local.alarm_instances[a.per] : (key == "" ? id : "${id}-${key}") => merge(local.alarm_defaults, a, {\n        description = replace(a.description, "{key}", key)\n        dimensions  = { for d, v in a.dimensions : d => replace(v, "{key}", key) }\n      })\n    }\n  ]...)}',
    );
    const alarms = o().resources.get('aws_cloudwatch_metric_alarm') ?? new Map<string, Body>();
    expect([...alarms.keys()].sort()).toEqual(['api_5xx_rate', 'metric']);
    // Every field of the resource comes from the definition; every alarm, and its return to OK, to the topic.
    expect(alarms.get('metric')).toEqual({
      for_each: '${local.alarms}',
      alarm_name: '${var.name}-${each.key}',
      alarm_description: '${each.value.description}',
      namespace: '${each.value.namespace}',
      metric_name: '${each.value.metric}',
      dimensions: '${each.value.dimensions}',
      statistic: '${each.value.statistic}',
      period: '${each.value.period}',
      evaluation_periods: '${each.value.periods}',
      comparison_operator: '${each.value.comparison}',
      threshold: '${each.value.threshold}',
      treat_missing_data: '${each.value.missing}',
      alarm_actions: ['${aws_sns_topic.alarms.arn}'],
      ok_actions: ['${aws_sns_topic.alarms.arn}'],
      tags: '${var.tags}',
    });
    const fields = ['per', 'description', 'metric', 'dimensions', 'statistic', 'period', 'comparison', 'threshold'];
    for (const [id, a] of Object.entries(definitions())) {
      expect({ id, missing: fields.filter((f) => !(f in a)) }).toEqual({ id, missing: [] });
      expect({ id, unknown: Object.keys(a).filter((f) => ![...fields, 'namespace', 'periods', 'missing'].includes(f)) }).toEqual({
        id,
        unknown: [],
      });
    }
    // 4 dead-letter queues, 5 single alarms, 3 x 3 per core, 4 lanes, 3 x 5 per channel.
    expect(expandedAlarms().size).toBe(4 + 5 + 3 * 3 + 4 + 3 * 5);
  });

  test('alarms on the API 5xx rate, dead letters, outbox lag, overdue night files, open breakers and reconciliation breaks, to one topic', () => {
    expect(Object.keys(definitions()).sort()).toEqual(Object.keys(ALARMS).sort());
    for (const [id, want] of Object.entries(ALARMS)) {
      const a = definitions()[id];
      expect({ id, metric: a?.metric, per: a?.per, dimensions: a?.dimensions }).toEqual({ id, ...want, issue13: undefined });
    }
    const api = o().resources.get('aws_cloudwatch_metric_alarm')?.get('api_5xx_rate');
    expect(text(api)).toContain('5XXError');
    expect({ actions: api?.alarm_actions, ok: api?.ok_actions }).toEqual({
      actions: ['${aws_sns_topic.alarms.arn}'],
      ok: ['${aws_sns_topic.alarms.arn}'],
    });
    const alarms = expandedAlarms();
    expect(alarms.get('outbox-lag')).toMatchObject({ missing: 'breaching', namespace: '${var.metric_namespace}', periods: 3 });
    expect(alarms.get('dlq-loanhub.results.dlq')).toMatchObject({
      namespace: 'AWS/AmazonMQ',
      dimensions: { Broker: '${var.broker_name}', VirtualHost: '/', Queue: 'loanhub.results.dlq' },
    });
    for (const core of CORES) {
      expect(alarms.get(`breaker-open-${core}`)).toMatchObject({ metric: 'loanhub_core_breaker_state', dimensions: { core } });
      expect(String(alarms.get(`commands-dead-lettered-${core}`)?.description)).toContain(`loanhub dlq list --core ${core}`);
    }
    for (const channel of CHANNELS) {
      expect(alarms.get(`webhook-gave-up-${channel}`)?.dimensions).toEqual({ channel, outcome: 'gave_up' });
    }
    expect([...alarms.values()].filter((a) => JSON.stringify(a).includes('{key}'))).toEqual([]);
    expect(defaultOf('cores')).toEqual([...CORES]);
  });

  test("the dead-letter alarms watch the hub's own dead-letter queues", () => {
    const expected = [...CORES, 'results' as const].map((lane) => laneNames(lane).deadLetterQueue).sort();
    expect([...defaultOf('dead_letter_queues')].sort()).toEqual(expected);
    expect(
      [...expandedAlarms().values()]
        .filter((a) => a.metric === 'MessageCount')
        .map((a) => (a.dimensions as Body).Queue)
        .sort(),
    ).toEqual(expected);
  });

  test("issue 13's metrics are alarmed on per core, per channel or per process as docs/metrics.md advises", () => {
    for (const [id, want] of ISSUE_13_ALARMS) {
      // each alarm's metric is one the hub serves and docs/metrics.md lists with alert advice
      expect({ id, documented: metricsDoc.includes(`| \`${want.metric}\` |`) }).toEqual({ id, documented: true });
    }
    expect(defaultOf('channels')).toEqual([...CHANNELS]);
  });

  test("every metric alarmed on is exported by the tasks' agents with the dimensions its alarm uses", () => {
    const agent = text(tree.dir('modules/compute').locals.agent_container);
    // the agent's EMF declarations, each: which jobs, which dimension set, which metric names
    const declarations = [...agent.matchAll(/\{\s*source_labels[^}]*?\}/g)].map((m) => m[0]);
    expect(declarations.length).toBeGreaterThan(0);
    const exportedWith = (metric: string, dims: readonly string[]): boolean =>
      declarations.some((d) => {
        const set = /dimensions\s*=\s*\[\[([^\]]*)\]\]/.exec(d)?.[1] ?? '';
        const names = [...set.matchAll(/\\?"([a-z_]+)\\?"/g)].map((x) => x[1]).sort();
        return d.includes(`^${metric}$`) && JSON.stringify(names) === JSON.stringify([...dims].sort());
      });
    for (const [id, a] of Object.entries(definitions())) {
      if (a.namespace !== undefined) continue; // not the hub's namespace (Amazon MQ's own metric)
      expect({ id, exported: exportedWith(String(a.metric), Object.keys(a.dimensions as Body)) }).toEqual({
        id,
        exported: true,
      });
    }
  });

  test("the metrics alarmed on are among those the tasks' agents export, from the hub's metric names", () => {
    const agent = text(tree.dir('modules/compute').locals.agent_container);
    for (const m of ['loanhub_outbox_lag_seconds', 'loanhub_core_breaker_state']) expect(agent).toContain(`^${m}$`);
    const metricsSource = fs.readFileSync(path.resolve(__dirname, '../../metrics/core-metrics.ts'), 'utf8');
    for (const m of ['loanhub_outbox_lag_seconds', 'loanhub_core_breaker_state']) expect(metricsSource).toContain(`'${m}'`);
  });
});

describe('environments', () => {
  const call = (env: string, mod: string): Body => {
    const c = tree.dir(env).modules.get(mod);
    if (!c) throw new Error(`${env} has no module.${mod}`);
    return c;
  };

  test('prod is the bigger, safer one: more tasks, Multi-AZ, deletion protection, a broker cluster', () => {
    const countOf = (env: string): number => Number((call(env, 'compute').serve as Body).min_count);
    expect(countOf('envs/prod')).toBeGreaterThan(countOf('envs/dev'));
    expect(countOf('envs/prod')).toBeGreaterThanOrEqual(2);
    expect(call('envs/prod', 'database')).toMatchObject({ multi_az: true, deletion_protection: true });
    expect(call('envs/prod', 'identity').deletion_protection).toBe(true);
    expect(call('envs/prod', 'broker').deployment_mode).toBe('CLUSTER_MULTI_AZ');
    expect(call('envs/prod', 'network').single_nat_gateway).toBe(false);
    expect(Number(call('envs/prod', 'database').backup_retention_days)).toBeGreaterThan(
      Number(call('envs/dev', 'database').backup_retention_days),
    );
  });

  test('every setting the catalogue marks secret reaches the tasks through secrets, never as a plain value', () => {
    const secretNames = SETTINGS.filter((s) => s.secret !== 'none').map((s) => s.name);
    const plain = variableNamesIn(text(tree.dir('modules/compute').locals.environment), {
      channels: CHANNELS,
      cores: CORES,
    }).names;
    expect(plain.filter((n) => secretNames.includes(n))).toEqual([]);
  });
});
