using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class DatasetRelationshipConfiguration : IEntityTypeConfiguration<DatasetRelationship>
{
    public void Configure(EntityTypeBuilder<DatasetRelationship> builder)
    {
        builder.Property(r => r.FromColumn).HasMaxLength(256);
        builder.Property(r => r.ToColumn).HasMaxLength(256);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.FromDatasetId).OnDelete(DeleteBehavior.Cascade);
        // SQL Server refuses two cascade paths to one table; removing the "to" dataset is handled by the service.
        builder.HasOne<Dataset>().WithMany().HasForeignKey(r => r.ToDatasetId).OnDelete(DeleteBehavior.NoAction);
        builder.HasIndex(r => new { r.FromDatasetId, r.FromColumn }).IsUnique();
    }
}
