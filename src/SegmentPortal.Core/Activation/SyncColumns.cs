using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Activation;

/// <summary>A column offered in the sync dialog: whether it may be sent and, if not, why.</summary>
public sealed record SyncColumnChoice(string Name, bool Allowed, string? Reason);

/// <summary>
/// Which of a dataset's columns may leave the portal in a sync, as the person the sync runs as sees them: only columns
/// they see unmasked. A hidden, masked or hashed column cannot be chosen, and is refused again at every run (rules change).
/// </summary>
internal static class SyncColumns
{
    public static readonly string[] Reserved = ["customer_key", "synced_at"];

    /// <summary>Every column of the dataset as the current user may know it, with whether it may be sent.</summary>
    public static async Task<(string? Key, IReadOnlyList<SyncColumnChoice> Choices)> ChoicesAsync(IServiceProvider services, int datasetId, CancellationToken cancellationToken)
    {
        var view = await ViewAsync(services, datasetId, cancellationToken);
        var key = view.WithRole(FieldRole.CustomerId);
        var choices = new List<SyncColumnChoice>();
        foreach (var field in view.OwnFields.Where(f => f.Role != FieldRole.CustomerId))
        {
            choices.Add(new SyncColumnChoice(field.Name, Why(field) is null && !IsReserved(field.Name), Why(field) ?? ReservedWhy(field.Name)));
        }
        choices.AddRange(view.HiddenColumns.Select(name => new SyncColumnChoice(name, false, "Hidden from you by a column rule: it cannot be sent.")));
        return (key?.Name, choices);
    }

    /// <summary>The customer key and the chosen columns as they will be sent; refuses (with the reason) what may not leave.</summary>
    public static async Task<(string Key, IReadOnlyList<SyncColumn> Columns)> CheckAsync(
        IServiceProvider services, int datasetId, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var view = await ViewAsync(services, datasetId, cancellationToken);
        var key = view.WithRole(FieldRole.CustomerId)
            ?? throw new SyncRefusedException($"{view.Name} has no Customer ID column, so its members cannot be sent.");
        if (key.Treatment != ColumnTreatment.Visible)
        {
            throw new SyncRefusedException($"The Customer ID column “{key.Name}” is {Describe(key.Treatment)} for the sync's owner by a column rule, so members cannot be sent.");
        }
        var columns = new List<SyncColumn>();
        foreach (var name in names)
        {
            if (view.HiddenColumns.Contains(name))
            {
                throw new SyncRefusedException($"The column “{name}” is hidden from the sync's owner by a column rule, so it cannot be sent. Remove it from the sync.");
            }
            var field = view.OwnFields.FirstOrDefault(f => f.Name == name)
                ?? throw new SyncRefusedException($"The column “{name}” no longer exists in {view.Name}. Remove it from the sync.");
            if (Why(field) is { } why)
            {
                throw new SyncRefusedException($"The column “{name}”: {why} Remove it from the sync.");
            }
            if (IsReserved(name) || field.Role == FieldRole.CustomerId)
            {
                throw new SyncRefusedException(ReservedWhy(name) ?? $"“{name}” is the Customer ID, which is always sent as customer_key.");
            }
            columns.Add(new SyncColumn(field.Name, field.Kind == FieldKind.Number));
        }
        return (key.Name, columns);
    }

    private static async Task<QueryDataset> ViewAsync(IServiceProvider services, int datasetId, CancellationToken cancellationToken)
    {
        var dataset = await services.GetRequiredService<Authorizer>().RequireReadableAsync(datasetId, cancellationToken);
        return await services.GetRequiredService<PermissionPolicy>().DescribeAsync(dataset, cancellationToken);
    }

    private static string? Why(QueryField field) => field.Treatment == ColumnTreatment.Visible
        ? null
        : $"{char.ToUpperInvariant(Describe(field.Treatment)[0])}{Describe(field.Treatment)[1..]} for you by a column rule: masked or hashed values cannot be sent.";

    private static string Describe(ColumnTreatment treatment) => treatment switch
    {
        ColumnTreatment.Masked => "masked",
        ColumnTreatment.Hashed => "hashed",
        ColumnTreatment.Hidden => "hidden",
        _ => "restricted",
    };

    private static bool IsReserved(string name) => Reserved.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static string? ReservedWhy(string name) =>
        IsReserved(name) ? $"“{name}” is a name the sync uses itself (customer_key, synced_at); rename the column to send it." : null;
}

/// <summary>A sync may not send what it was asked to (a column rule, a missing column): no retry helps until someone changes it.</summary>
internal sealed class SyncRefusedException(string message) : PortalException(message);
