import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's own audit settings; no row: the defaults (VMCP_AUDIT_RETENTION_DAYS). */
@Entity({ name: 'audit_settings' })
export class AuditSettingsEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) tenant_id!: string;
  @Column({ type: 'integer' }) retention_days!: number;
  @Column({ type: 'varchar', length: 40 }) updated_at!: string;
}
