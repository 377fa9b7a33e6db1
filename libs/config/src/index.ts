export { loadConfig, ConfigError, VMCP_CONFIG, ENV_VARIABLES } from './config.js';
export type { VmcpConfig, ServiceName } from './config.js';
