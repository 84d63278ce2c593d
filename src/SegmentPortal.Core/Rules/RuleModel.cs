using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SegmentPortal.Core.Rules;

public enum Combinator
{
    And,
    Or,
}

/// <summary>Every operator a condition can use; which ones apply depends on the field's type (see <see cref="RuleOperators"/>).</summary>
public enum RuleOperator
{
    Equals,
    NotEquals,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Between,
    IsEmpty,
    IsNotEmpty,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    On,
    Before,
    After,
    InLast,
    NotInLast,
    InThis,
    InPrevious,
    IsTrue,
    IsFalse,

    /// <summary>Text that does not start with the value (empty counts as not starting with it), e.g. invoices not cancelled.</summary>
    NotStartsWith,
}

public enum RelativeUnit
{
    Days,
    Weeks,
    Months,
    Quarters,
    Years,
}

/// <summary>Facts about a customer computed from their orders (the transaction dataset), optionally over a window.</summary>
public enum CustomerFact
{
    OrderCount,
    TotalAmount,
    AverageAmount,
    FirstOrderDate,
    LastOrderDate,
    DaysSinceLastOrder,
    BoughtCategory,
}

/// <summary>A node of a rule tree: a group, or one of the conditions.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(RuleGroup), "group")]
[JsonDerivedType(typeof(FieldCondition), "condition")]
[JsonDerivedType(typeof(FactCondition), "fact")]
[JsonDerivedType(typeof(SegmentCondition), "segment")]
public abstract class RuleNode
{
    /// <summary>Stable within a tree, so the builder can move nodes and show what each one narrows the count to.</summary>
    public string Id { get; set; } = NewId();

    public static string NewId() => Guid.NewGuid().ToString("N")[..10];

    /// <summary>A deep copy with new ids (for "duplicate").</summary>
    public abstract RuleNode Clone();
}

/// <summary>Children combined with AND or OR, optionally negated. An empty group matches everything.</summary>
public sealed class RuleGroup : RuleNode
{
    public Combinator Combinator { get; set; } = Combinator.And;

    public bool Not { get; set; }

    public List<RuleNode> Children { get; set; } = [];

    public override RuleNode Clone() => new RuleGroup
    {
        Combinator = Combinator,
        Not = Not,
        Children = Children.Select(c => c.Clone()).ToList(),
    };

    /// <summary>This group and every node below it, depth first.</summary>
    public IEnumerable<RuleNode> Descendants()
    {
        foreach (var child in Children)
        {
            yield return child;
            if (child is RuleGroup group)
            {
                foreach (var nested in group.Descendants())
                {
                    yield return nested;
                }
            }
        }
    }
}

/// <summary>The values of a condition, as text: parsed by the field's type when the rule is compiled.</summary>
public abstract class ValueCondition : RuleNode
{
    public RuleOperator Operator { get; set; }

    /// <summary>The value (for between: the lower bound; for in the last: the amount).</summary>
    public string? Value { get; set; }

    /// <summary>The upper bound of between.</summary>
    public string? Value2 { get; set; }

    /// <summary>The list for in / not in.</summary>
    public List<string> Values { get; set; } = [];

    /// <summary>The unit of in the last / not in the last / in this / in previous.</summary>
    public RelativeUnit? Unit { get; set; }

    protected T CopyValuesTo<T>(T target) where T : ValueCondition
    {
        target.Operator = Operator;
        target.Value = Value;
        target.Value2 = Value2;
        target.Values = [.. Values];
        target.Unit = Unit;
        return target;
    }
}

/// <summary>A column of the dataset compared with a value: "Region is North", "Signup date in the last 3 months".</summary>
public sealed class FieldCondition : ValueCondition
{
    public string Field { get; set; } = "";

    public override RuleNode Clone() => CopyValuesTo(new FieldCondition { Field = Field });
}

/// <summary>
/// A fact about the customer's orders: "spent more than 1,000 in the last 90 days", "ordered at least 3 times in the
/// last 30 days", "bought category Toys". Customers without orders have 0 orders, 0 spent, and no dates.
/// </summary>
public sealed class FactCondition : ValueCondition
{
    public CustomerFact Fact { get; set; }

    /// <summary>Only orders in the last so many days count; null for all orders.</summary>
    public int? WindowDays { get; set; }

    /// <summary>For <see cref="CustomerFact.BoughtCategory"/>: the order column holding the category.</summary>
    public string? Column { get; set; }

    public override RuleNode Clone() => CopyValuesTo(new FactCondition { Fact = Fact, WindowDays = WindowDays, Column = Column });
}

/// <summary>Membership of another saved segment.</summary>
public sealed class SegmentCondition : RuleNode
{
    public int SegmentId { get; set; }

    /// <summary>True for "is in", false for "is not in".</summary>
    public bool In { get; set; } = true;

    public override RuleNode Clone() => new SegmentCondition { SegmentId = SegmentId, In = In };
}

/// <summary>A versioned rule tree, as stored with a segment.</summary>
public sealed class RuleTree
{
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    public RuleGroup Root { get; set; } = new();

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // Enums by name only: a number would slip past as an operator the portal does not have.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        // Hand-written or pasted rules do not always put "kind" first.
        AllowOutOfOrderMetadataProperties = true,
    };

    private static readonly string[] Kinds = ["group", "condition", "fact", "segment"];

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToIndentedJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions(Json) { WriteIndented = true });

    /// <summary>
    /// Reads a rule tree. Anything that is not a complete rule is refused with a <see cref="PortalException"/> that says
    /// what is wrong and where (a path such as <c>root.children[1]</c>), never with another exception.
    /// </summary>
    public static RuleTree FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new RuleTree();
        }
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, character {(ex.BytePositionInLine ?? 0) + 1})" : "";
            throw new PortalException($"This is not a rule in SegmentPortal's format: it is not valid JSON{where}.", ex);
        }
        if (document is not JsonObject top)
        {
            throw new PortalException("This is not a rule in SegmentPortal's format: it should be a JSON object with \"version\" and \"root\".");
        }
        if (Property(top, "root") is { } root)
        {
            CheckShape(root, "root", isRoot: true);
        }
        RuleTree? tree;
        try
        {
            tree = top.Deserialize<RuleTree>(Json);
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 1 } p ? $" at {p.TrimStart('$').TrimStart('.')}" : "";
            throw new PortalException($"This is not a rule in SegmentPortal's format{path}: a value has the wrong type or is not one the portal knows.", ex);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw new PortalException("This is not a rule in SegmentPortal's format: its parts do not fit together.", ex);
        }
        if (tree is null || tree.Root is null)
        {
            throw new PortalException("This rule is empty.");
        }
        if (tree.Version != CurrentVersion)
        {
            throw new PortalException($"This rule has version {tree.Version}; this portal reads version {CurrentVersion}.");
        }
        Check(tree.Root, "root", []);
        return tree;
    }

    private static JsonNode? Property(JsonObject node, string name) =>
        node.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    private static PortalException Bad(string path, string problem) => new($"The rule's JSON at {path} {problem}");

    /// <summary>Every node an object with a known "kind", and groups' children a list: checked before the typed read, to name the place.</summary>
    private static void CheckShape(JsonNode? node, string path, bool isRoot)
    {
        if (node is not JsonObject obj)
        {
            throw Bad(path, "should be a group or a condition (a JSON object with a \"kind\"), not " + (node is null ? "null." : $"{node.GetValueKind().ToString().ToLowerInvariant()}."));
        }
        var kind = obj.FirstOrDefault(p => p.Key == "kind").Value;
        if (isRoot && kind is null)
        {
            // The root is always a group, and written without its kind.
            kind = JsonValue.Create("group");
        }
        if (kind is null || kind.GetValueKind() != JsonValueKind.String || !Kinds.Contains(kind.GetValue<string>()))
        {
            throw Bad(path, kind is null
                ? "has no \"kind\"; it should say \"group\", \"condition\", \"fact\" or \"segment\"."
                : $"has the \"kind\" {kind.ToJsonString()}; it should be \"group\", \"condition\", \"fact\" or \"segment\".");
        }
        if (isRoot && kind.GetValue<string>() != "group")
        {
            throw Bad(path, "should be a group (\"kind\": \"group\") holding the conditions.");
        }
        if (kind.GetValue<string>() == "group" && Property(obj, "children") is { } children)
        {
            if (children is not JsonArray list)
            {
                throw Bad(path + ".children", "should be a list of conditions and groups.");
            }
            for (var i = 0; i < list.Count; i++)
            {
                CheckShape(list[i], $"{path}.children[{i}]", isRoot: false);
            }
        }
    }

    /// <summary>What the typed read lets through but the portal cannot use (nulls, unknown enum values); gives missing or repeated ids new ones.</summary>
    private static void Check(RuleNode? node, string path, HashSet<string> ids)
    {
        switch (node)
        {
            case null:
                throw Bad(path, "is empty (null); remove it.");
            case RuleGroup group:
                if (!Enum.IsDefined(group.Combinator))
                {
                    throw Bad(path, "has a \"combinator\" that is neither \"and\" nor \"or\".");
                }
                if (group.Children is null)
                {
                    throw Bad(path + ".children", "should be a list of conditions and groups, not null.");
                }
                for (var i = 0; i < group.Children.Count; i++)
                {
                    Check(group.Children[i], $"{path}.children[{i}]", ids);
                }
                break;
            case ValueCondition condition:
                if (!Enum.IsDefined(condition.Operator) || (condition.Unit is { } unit && !Enum.IsDefined(unit)))
                {
                    throw Bad(path, "has an \"operator\" or \"unit\" the portal does not know.");
                }
                if (condition.Values is null || condition.Values.Any(v => v is null))
                {
                    throw Bad(path + ".values", "should be a list of values, without nulls.");
                }
                if (condition is FieldCondition { Field: null })
                {
                    throw Bad(path + ".field", "should name a column, not be null.");
                }
                if (condition is FactCondition fact && !Enum.IsDefined(fact.Fact))
                {
                    throw Bad(path, "has a \"fact\" the portal does not know.");
                }
                break;
        }
        if (string.IsNullOrEmpty(node.Id) || !ids.Add(node.Id))
        {
            node.Id = RuleNode.NewId();
            ids.Add(node.Id);
        }
    }

    public RuleTree Clone() => new() { Version = Version, Root = (RuleGroup)Root.Clone() };
}
