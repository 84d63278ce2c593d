using System.Reflection;
using SegmentPortal.Core;

namespace SegmentPortal.Tests.Architecture;

/// <summary>
/// Guards the module order of SegmentPortal.Core: each folder (namespace SegmentPortal.Core.X) is a module and may
/// use only the modules before it in <see cref="Order"/>; Core uses no ASP.NET Core; Queries uses none of the
/// feature modules. Read by reflection over the compiled assembly (signatures and method bodies), so a reference
/// through <c>var</c>, a lambda or an async method counts too.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private const string CorePrefix = "SegmentPortal.Core.";

    /// <summary>The module order (README, Layout): a module may use only the modules before it.</summary>
    private static readonly string[] Order =
    [
        "Common", "Storage", "Identity", "Audit", "Users", "Warehouse", "Datasets", "Rules", "Access", "Queries", "Catalog",
        "Exports", "Jobs", "Connections", "Delivery", "Import", "Segments", "Analysis", "Metrics", "Sharing", "Dashboards", "Alerts", "Subscriptions", "Activation", "Demo",
    ];

    /// <summary>
    /// Persistence (IPortalDb) names every module's entities and every module uses it; it stands beside the order.
    /// Types in the root namespace (PortalException, UserErrors, DependencyInjection) are not a module either.
    /// </summary>
    private static readonly string[] OutsideTheOrder = ["Persistence"];

    private static readonly Assembly Core = typeof(PortalException).Assembly;

    private static string? ModuleOf(Type type)
    {
        var ns = type.Namespace;
        if (ns is null || !ns.StartsWith(CorePrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = ns[CorePrefix.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    /// <summary>Every edge between two modules of Core, with the type pairs behind it.</summary>
    private static Dictionary<(string User, string Used), List<string>> Edges()
    {
        var edges = new Dictionary<(string, string), List<string>>();
        foreach (var (user, used) in TypeReferences.Of(Core))
        {
            var from = ModuleOf(user);
            var to = ModuleOf(used);
            if (from is null || to is null || from == to
                || OutsideTheOrder.Contains(from) || OutsideTheOrder.Contains(to))
            {
                continue;
            }
            if (!edges.TryGetValue((from, to), out var pairs))
            {
                edges[(from, to)] = pairs = [];
            }
            var pair = $"{user.FullName} uses {Outer(used).FullName}";
            if (!pairs.Contains(pair))
            {
                pairs.Add(pair);
            }
        }
        return edges;
    }

    private static Type Outer(Type type) => TypeReferences.Outermost(type);

    private static string Describe(KeyValuePair<(string User, string Used), List<string>> edge) =>
        $"{edge.Key.User} -> {edge.Key.Used}: " + string.Join("; ", edge.Value.Order(StringComparer.Ordinal).Take(5))
        + (edge.Value.Count > 5 ? $" (and {edge.Value.Count - 5} more)" : "");

    [Fact]
    public void Every_module_of_Core_has_a_place_in_the_order()
    {
        var modules = Core.GetTypes().Select(ModuleOf).OfType<string>().Distinct();
        var unplaced = modules.Where(m => !Order.Contains(m) && !OutsideTheOrder.Contains(m))
            .Order(StringComparer.Ordinal).ToList();

        Assert.True(unplaced.Count == 0,
            $"Modules of SegmentPortal.Core missing from the module order (ModuleBoundaryTests.Order and README, Layout): {string.Join(", ", unplaced)}");
    }

    [Fact]
    public void A_module_uses_only_the_modules_before_it_in_the_order()
    {
        var edges = Edges();
        var against = edges.Where(e => Array.IndexOf(Order, e.Key.Used) > Array.IndexOf(Order, e.Key.User)).ToList();

        var violations = against.Select(Describe).Order(StringComparer.Ordinal).ToList();
        Assert.True(violations.Count == 0,
            "Modules using a module after them in the order (" + string.Join(", ", Order) + "):\n"
            + string.Join("\n", violations));
    }

    [Fact]
    public void Queries_uses_none_of_Analysis_Sharing_Segments_or_Dashboards()
    {
        string[] forbidden = ["Analysis", "Sharing", "Segments", "Dashboards"];
        var violations = Edges().Where(e => e.Key.User == "Queries" && forbidden.Contains(e.Key.Used))
            .Select(Describe).ToList();

        Assert.True(violations.Count == 0, "Queries must not use these modules:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Core_uses_no_ASP_NET_Core()
    {
        // Judged by assembly: Microsoft.Extensions.Identity.Core/Stores (UserManager, IdentityUser) keep the
        // Microsoft.AspNetCore.Identity namespace but are not the web framework; Core may use them.
        static bool IsAspNetCore(string? assemblyName) =>
            assemblyName is not null && assemblyName.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal);

        var referenced = Core.GetReferencedAssemblies().Where(a => IsAspNetCore(a.Name)).Select(a => a.Name).ToList();
        var uses = TypeReferences.Of(Core)
            .Where(r => IsAspNetCore(r.Used.Assembly.GetName().Name))
            .Select(r => $"{r.User.FullName} uses {r.Used.FullName} ({r.Used.Assembly.GetName().Name})")
            .Distinct().Order(StringComparer.Ordinal).Take(20).ToList();

        Assert.True(referenced.Count == 0 && uses.Count == 0,
            "SegmentPortal.Core must not use ASP.NET Core. Assemblies: " + string.Join(", ", referenced)
            + "\n" + string.Join("\n", uses));
    }
}
