import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per tool call, merged from its audit events. */
@Entity({ name: 'tool_call_logs' })
@Index('logs_tenant_started', ['tenant_id', 'started_at'])
@Index('logs_tenant_identifier', ['tenant_id', 'identifier'])
export class ToolCallLogEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) execution_id!: string;
  @Column({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) config_id!: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) connection_name!: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) connector!: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) connected_account_id!: string | null;
  @Column({ type: 'varchar', length: 255 }) identifier!: string;
  @Column({ type: 'varchar', length: 256 }) tool_name!: string;
  @Column({ type: 'varchar', length: 8 }) source!: string;
  @Column({ type: 'varchar', length: 255, nullable: true }) agent_run_id!: string | null;
  @Column({ type: 'varchar', length: 16 }) status!: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) error_code!: string | null;
  @Column({ type: 'text', nullable: true }) error_message!: string | null;
  @Column({ type: 'integer', nullable: true }) duration_ms!: number | null;
  @Column({ type: 'varchar', length: 40 }) started_at!: string;
  @Column({ type: 'varchar', length: 40, nullable: true }) finished_at!: string | null;
  @Column({ type: 'integer', nullable: true }) arguments_size!: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) arguments_sha256!: string | null;
  @Column({ type: 'integer', nullable: true }) result_size!: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) result_sha256!: string | null;
  /** Captured payloads (configs that opt in), redacted, as canonical JSON. */
  @Column({ type: 'text', nullable: true }) arguments!: string | null;
  @Column({ type: 'text', nullable: true }) result!: string | null;
}
