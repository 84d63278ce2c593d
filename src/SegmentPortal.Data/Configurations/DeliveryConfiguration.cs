using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Delivery;

namespace SegmentPortal.Data.Configurations;

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.Property(m => m.Channel).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.Recipient).HasMaxLength(OutboxMessage.MaxRecipientLength);
        builder.Property(m => m.Subject).HasMaxLength(OutboxMessage.MaxSubjectLength);
        builder.Property(m => m.EventType).HasMaxLength(100);
        builder.Property(m => m.IdempotencyKey).HasMaxLength(OutboxMessage.MaxKeyLength);
        builder.HasIndex(m => m.IdempotencyKey).IsUnique();
        builder.Property(m => m.LastError).HasMaxLength(OutboxMessage.MaxErrorLength);
        builder.Property(m => m.WrittenTo).HasMaxLength(1000);
        // The worker's question: which pending messages are due.
        builder.HasIndex(m => new { m.State, m.NextAttemptAt });
        builder.HasIndex(m => new { m.Channel, m.Recipient });
        builder.HasIndex(m => m.CreatedAt);
    }
}

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> builder)
    {
        builder.Property(e => e.Name).HasMaxLength(WebhookEndpoint.MaxNameLength);
        builder.Property(e => e.Url).HasMaxLength(WebhookEndpoint.MaxUrlLength);
        builder.Property(e => e.Format).HasConversion<string>().HasMaxLength(32);
        builder.Property(e => e.ProtectedSecret).HasMaxLength(2000);
        builder.Property(e => e.CreatedBy).HasMaxLength(256);
    }
}

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.Property(n => n.UserId).HasMaxLength(450);
        builder.Property(n => n.Title).HasMaxLength(Notification.MaxTitleLength);
        builder.Property(n => n.Body).HasMaxLength(Notification.MaxBodyLength);
        builder.Property(n => n.Link).HasMaxLength(Notification.MaxLinkLength);
        builder.Property(n => n.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(n => n.IdempotencyKey).HasMaxLength(Notification.MaxKeyLength);
        // The same event notifies a user once.
        builder.HasIndex(n => new { n.UserId, n.IdempotencyKey }).IsUnique();
        // The bell's questions: a user's unread count, their latest.
        builder.HasIndex(n => new { n.UserId, n.ReadAt });
        builder.HasIndex(n => new { n.UserId, n.CreatedAt });
    }
}
