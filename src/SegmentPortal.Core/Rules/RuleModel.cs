using System.Text.Json;
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
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToIndentedJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions(Json) { WriteIndented = true });

    public static RuleTree FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new RuleTree();
        }
        RuleTree? tree;
        try
        {
            tree = JsonSerializer.Deserialize<RuleTree>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new PortalException($"This is not a rule in SegmentPortal's format ({ex.Message}).");
        }
        if (tree is null || tree.Root is null)
        {
            throw new PortalException("This rule is empty.");
        }
        if (tree.Version != CurrentVersion)
        {
            throw new PortalException($"This rule has version {tree.Version}; this portal reads version {CurrentVersion}.");
        }
        return tree;
    }

    public RuleTree Clone() => new() { Version = Version, Root = (RuleGroup)Root.Clone() };
}
