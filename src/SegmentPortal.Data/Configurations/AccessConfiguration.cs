using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Data.Configurations;

internal sealed class ShareConfiguration : IEntityTypeConfiguration<Share>
{
    public void Configure(EntityTypeBuilder<Share> builder)
    {
        builder.Property(s => s.UserId).HasMaxLength(450);
        builder.Property(s => s.Role).HasMaxLength(64);
        builder.HasIndex(s => new { s.Item, s.ItemId, s.UserId, s.Role }).IsUnique();
        builder.HasIndex(s => s.UserId);
    }
}

internal sealed class FolderConfiguration : IEntityTypeConfiguration<Folder>
{
    public void Configure(EntityTypeBuilder<Folder> builder)
    {
        builder.Property(f => f.Name).HasMaxLength(200);
        builder.HasIndex(f => new { f.OwnerId, f.Name }).IsUnique(); // unique per owner, see DashboardFolders
        builder.Property(f => f.OwnerId).HasMaxLength(450);
        builder.HasMany<Dashboard>().WithOne().HasForeignKey(d => d.FolderId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class PublicLinkConfiguration : IEntityTypeConfiguration<PublicLink>
{
    public void Configure(EntityTypeBuilder<PublicLink> builder)
    {
        builder.Property(l => l.TokenHash).HasMaxLength(64);
        builder.HasIndex(l => l.TokenHash).IsUnique();
        builder.Property(l => l.CreatedById).HasMaxLength(450);
        builder.HasOne<Dashboard>().WithMany().HasForeignKey(l => l.DashboardId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RowRuleConfiguration : IEntityTypeConfiguration<RowRule>
{
    public void Configure(EntityTypeBuilder<RowRule> builder)
    {
        builder.Property(r => r.Role).HasMaxLength(64);
        builder.Property(r => r.UserId).HasMaxLength(450);
        builder.Property(r => r.RuleJson).IsRequired();
        builder.Property(r => r.Description).HasMaxLength(400);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.DatasetId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(r => r.DatasetId);
    }
}

internal sealed class ColumnRuleConfiguration : IEntityTypeConfiguration<ColumnRule>
{
    public void Configure(EntityTypeBuilder<ColumnRule> builder)
    {
        builder.Property(r => r.Column).HasMaxLength(256);
        builder.Property(r => r.Role).HasMaxLength(64);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.DatasetId).OnDelete(DeleteBehavior.Cascade);
        // Held by the column's id (it follows renames); no foreign key, so a column that goes leaves its rule behind,
        // and the rule then hides any later column of its name (fail closed).
        builder.HasIndex(r => new { r.DatasetId, r.ColumnId, r.Role }).IsUnique();
    }
}

internal sealed class UserAttributeConfiguration : IEntityTypeConfiguration<UserAttribute>
{
    public void Configure(EntityTypeBuilder<UserAttribute> builder)
    {
        builder.Property(a => a.UserId).HasMaxLength(450);
        builder.Property(a => a.Name).HasMaxLength(64);
        builder.Property(a => a.Value).HasMaxLength(400);
        builder.HasOne<AppUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(a => new { a.UserId, a.Name }).IsUnique();
    }
}

internal sealed class PortalSettingConfiguration : IEntityTypeConfiguration<PortalSetting>
{
    public void Configure(EntityTypeBuilder<PortalSetting> builder)
    {
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(128);
        builder.Property(s => s.Value).HasMaxLength(2000);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.Property(e => e.UserId).HasMaxLength(450);
        builder.Property(e => e.UserName).HasMaxLength(256);
        builder.Property(e => e.Action).HasMaxLength(64);
        builder.Property(e => e.Subject).HasMaxLength(400);
        builder.Property(e => e.Detail).HasMaxLength(2000);
        builder.Property(e => e.Address).HasMaxLength(64);
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => new { e.Action, e.At });
    }
}
