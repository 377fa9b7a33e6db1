export { loadConfig, ConfigError, VMCP_CONFIG } from './config.js';
export type { VmcpConfig, ServiceName } from './config.js';
