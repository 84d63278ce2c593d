using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Access;

/// <summary>
/// The one place the rest of the portal asks "may this user do this to that item?". It answers from three sources,
/// each a small class of this module:
/// <list type="bullet">
/// <item>dataset grants (<see cref="DatasetAccess"/>): who may read or change a dataset;</item>
/// <item>shares and public links (<see cref="ItemPermissions"/>): who may view, edit, share or export a dashboard,
/// segment or folder;</item>
/// <item>row and column rules (<see cref="DataViews"/>, <see cref="DataPolicy"/>): which rows and columns of a readable
/// dataset the user sees.</item>
/// </list>
/// Every answer is for the current user and is read afresh (through the access cache) on every call, so a changed grant,
/// share, rule, role or attribute applies to the next call.
/// </summary>
public sealed class Authorizer
{
    private readonly ICurrentUser _currentUser;
    private readonly DatasetAccess _datasets;
    private readonly ItemPermissions _items;
    private readonly DataViews _views;

    public Authorizer(ICurrentUser currentUser, IPortalDbFactory dbFactory, DataRuleStore rules, PortalSettings settings, SharedItems items, TimeProvider clock)
    {
        _currentUser = currentUser;
        _datasets = new DatasetAccess(currentUser, dbFactory);
        _items = new ItemPermissions(currentUser, dbFactory, items, clock);
        _views = new DataViews(rules, settings);
    }

    // ---- Datasets: grants ----

    /// <summary>A ready dataset the user may read; refuses (as "missing", so ids cannot be probed) otherwise.</summary>
    public Task<Dataset> RequireReadableAsync(int datasetId, CancellationToken cancellationToken = default) =>
        _datasets.RequireReadableAsync(datasetId, cancellationToken);

    /// <summary>A ready dataset the user may change (owner who may manage data, or Admin); refuses otherwise.</summary>
    public Task<Dataset> RequireWritableAsync(int datasetId, CancellationToken cancellationToken = default) =>
        _datasets.RequireWritableAsync(datasetId, cancellationToken);

    /// <summary>The dataset if the user may read it, else null; for optional reads such as related orders.</summary>
    public Task<Dataset?> FindReadableAsync(int datasetId, CancellationToken cancellationToken = default) =>
        _datasets.FindReadableAsync(datasetId, cancellationToken);

    /// <summary>The ids among <paramref name="datasetIds"/> the current user may read.</summary>
    public Task<IReadOnlySet<int>> ReadableAsync(IReadOnlyCollection<int> datasetIds, IReadOnlyDictionary<int, string?> owners, CancellationToken cancellationToken = default) =>
        _datasets.ReadableAsync(datasetIds, owners, cancellationToken);

    /// <summary>Whether <paramref name="user"/> may read a dataset with these grants (Admins, the owner, grantees).</summary>
    public static bool CanRead(ClaimsPrincipal user, Dataset dataset, IReadOnlyList<DatasetGrant> grants) => DatasetAccess.CanRead(user, dataset, grants);

    /// <summary>Owners (who may manage data) and Admins change a dataset's columns, roles, cleaning and relationships.</summary>
    public static bool CanChange(ClaimsPrincipal user, Dataset dataset) => DatasetAccess.CanChange(user, dataset);

    /// <summary>Owners and Admins decide who else may use a dataset (not while an Admin views as someone).</summary>
    public static bool CanShare(ClaimsPrincipal user, Dataset dataset) => DatasetAccess.CanShare(user, dataset);

    // ---- Dashboards, segments, folders: shares ----

    /// <summary>What the current user may do with an item. Missing items give <see cref="ItemAccess.None"/>.</summary>
    public Task<ItemAccess> AccessAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default) =>
        _items.AccessAsync(item, itemId, cancellationToken);

    /// <summary>The current user's access to many items at once (one read of the shares that concern them).</summary>
    public Task<AccessMap> MapAsync(CancellationToken cancellationToken = default) => _items.MapAsync(cancellationToken);

    /// <summary>Refuses (as "missing", so ids cannot be probed) when the user cannot see the item; otherwise returns their access.</summary>
    public async Task<ItemAccess> RequireViewAsync(SharedItem item, int itemId, CancellationToken cancellationToken = default)
    {
        var access = await AccessAsync(item, itemId, cancellationToken);
        return access.CanView ? access : throw Missing(item);
    }

    /// <summary>
    /// Whether the current user may export a dashboard's tiles or the board: Editors, owners and Admins always; Viewers
    /// when the board allows it; public-link visitors never.
    /// </summary>
    public Task<bool> CanExportAsync(int dashboardId, CancellationToken cancellationToken = default) => _items.CanExportAsync(dashboardId, cancellationToken);

    /// <summary>Refuses an export the user may not make; the server's check behind every export button.</summary>
    public async Task RequireExportAsync(int dashboardId, CancellationToken cancellationToken = default)
    {
        if (!await CanExportAsync(dashboardId, cancellationToken))
        {
            throw new PermissionDeniedException("Exports of this dashboard are turned off for viewers.");
        }
    }

    /// <summary>The export rule: Editors, owners and Admins always; Viewers when the board allows it; public-link visitors never.</summary>
    public static bool MayExport(ClaimsPrincipal user, ItemAccess access, bool viewersMayExport) => ItemPermissions.MayExport(user, access, viewersMayExport);

    /// <summary>The message for an item the user cannot see: the same as for one that does not exist.</summary>
    public static PortalException Missing(SharedItem item) => new($"That {item.ToString().ToLowerInvariant()} does not exist or you do not have access to it.");

    // ---- Rows and columns: data rules ----

    /// <summary>The current user as the data rules see them; refuses a disabled account or one whose roles no longer see data.</summary>
    public async Task<DataSubject> SubjectAsync(CancellationToken cancellationToken = default) =>
        await _views.SubjectAsync(await _currentUser.GetPrincipalAsync(), cancellationToken);

    /// <summary>
    /// <paramref name="described"/> as <paramref name="subject"/> may see it: hidden columns gone, masked and hashed ones
    /// as text, and only the rows of their row rules (see <see cref="DataPolicy.Restrict"/>).
    /// </summary>
    public Task<QueryDataset> RestrictAsync(QueryDataset described, DataSubject subject, CancellationToken cancellationToken = default) =>
        _views.RestrictAsync(described, subject, cancellationToken);

    /// <summary>Whether the subject may read every one of the datasets and has no row or column rules on any.</summary>
    public async Task<bool> SeesWholeAsync(IReadOnlyCollection<int> datasetIds, DataSubject subject, CancellationToken cancellationToken = default)
    {
        foreach (var id in datasetIds)
        {
            if (await FindReadableAsync(id, cancellationToken) is not { } input
                || (await RestrictAsync(QueryDataset.From(input), subject, cancellationToken)).IsRestricted)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A fingerprint of how the current user sees these datasets — their row rules with their attributes filled in,
    /// their column treatments, and which they may not read at all — or null when they may read all of every one.
    /// Users with the same fingerprint see the same rows and columns; a stored result computed under one fingerprint
    /// is shown only to users with that fingerprint or to users who see everything (see the analysis services).
    /// </summary>
    public async Task<string?> ViewKeyAsync(IReadOnlyCollection<int> datasetIds, CancellationToken cancellationToken = default)
    {
        var subject = await SubjectAsync(cancellationToken);
        var parts = new List<string>();
        var whole = true;
        foreach (var id in datasetIds.Distinct().Order())
        {
            if (await FindReadableAsync(id, cancellationToken) is not { } dataset)
            {
                whole = false;
                parts.Add($"{id}:unreadable");
                continue;
            }
            var view = await RestrictAsync(QueryDataset.From(dataset), subject, cancellationToken);
            if (!view.IsRestricted)
            {
                parts.Add($"{id}:all");
                continue;
            }
            whole = false;
            var rows = view.NoRows ? "none" : view.RowFilter is { } filter ? WithoutIds(new RuleTree { Root = filter }.ToJson()) : "all";
            parts.Add($"{id}:{rows}:{string.Join(",", view.OwnFields.Select(f => $"{f.Name}={f.Treatment}"))}:{string.Join(",", view.HiddenColumns)}");
        }
        return whole ? null : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))));
    }

    /// <summary>A rule's JSON without the node ids (new ones on every resolve), so equal rules give equal text.</summary>
    private static string WithoutIds(string json)
    {
        static void Strip(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    o.Remove("id");
                    foreach (var (_, child) in o)
                    {
                        Strip(child);
                    }
                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Strip(child);
                    }
                    break;
            }
        }
        var root = JsonNode.Parse(json);
        Strip(root);
        return root?.ToJsonString() ?? "";
    }
}
