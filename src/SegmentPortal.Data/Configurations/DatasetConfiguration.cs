using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> builder)
    {
        builder.Property(d => d.Name).HasMaxLength(200);
        builder.Property(d => d.TableName).HasMaxLength(64);
        builder.HasIndex(d => d.TableName).IsUnique();
        builder.Property(d => d.RawTableName).HasMaxLength(64);
        builder.Property(d => d.Source).HasMaxLength(500);
        builder.Property(d => d.Description).HasMaxLength(2000);
        builder.Property(d => d.OwnerId).HasMaxLength(450);
        builder.HasIndex(d => d.NextRefreshAt);
        // The REST API finds the dataset an import job made.
        builder.HasIndex(d => d.ImportJobId);
        // A live dataset: its connection, its table/view or SELECT and its freshness (the rows stay in the source).
        builder.Property(d => d.LiveSchema).HasMaxLength(128);
        builder.Property(d => d.LiveTable).HasMaxLength(128);
        builder.Property(d => d.LiveSelect).HasMaxLength(20000);
        builder.HasOne<SegmentPortal.Core.Connections.DataConnection>().WithMany().HasForeignKey(d => d.LiveConnectionId).OnDelete(DeleteBehavior.Restrict);
        builder.Ignore(d => d.Live);
        builder.HasMany(d => d.Columns).WithOne().HasForeignKey(c => c.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}
