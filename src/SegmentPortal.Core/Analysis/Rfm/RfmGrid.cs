using System.Text.Json;

namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>One cell of the R×F grid: the Recency score (row), the Frequency score (column) and the group's name.</summary>
public sealed record RfmGridCell(int R, int F, string Group);

/// <summary>
/// The editable map from the 5×5 R×F grid to named groups. Rows are the Recency score, columns the Frequency score;
/// Monetary does not place customers (some tools average F and M into "FM" for the columns; this portal uses F alone,
/// so a group means the same thing whatever the amounts, and M stays visible in the score and the heatmap).
/// <para>
/// Cells are stored as a list of (R, F, group) rather than a 5×5 array, so the JSON says which cell is which and
/// cannot be misread by row order. Immutable: edits return a new grid (<see cref="With"/>).
/// </para>
/// </summary>
/// <param name="Groups">The groups, in the order summaries list them; a group may have no cells.</param>
/// <param name="Cells">Exactly one cell per (R, F), each naming one of <paramref name="Groups"/>.</param>
public sealed record RfmGrid(IReadOnlyList<RfmGroup> Groups, IReadOnlyList<RfmGridCell> Cells)
{
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public int Version { get; init; } = CurrentVersion;

    /// <summary>
    /// The standard grid over <see cref="RfmGroups.Standard"/>: R 5 F 4–5 Champions; R 3–4 F 4–5 Loyal; R 4–5 F 2–3
    /// Potential loyalists; R 5 F 1 New; R 4 F 1 Promising; R 3 F 3 Need attention; R 3 F 1–2 About to sleep;
    /// R 1–2 F 3–4 At risk; R 1–2 F 5 Cannot lose them; R 2 F 1–2 Hibernating; R 1 F 1–2 Lost.
    /// </summary>
    public static RfmGrid Default { get; } = BuildDefault();

    /// <summary>The group name of a cell.</summary>
    /// <exception cref="PortalException">The grid has no such cell.</exception>
    public string GroupAt(int r, int f)
    {
        RfmScores.Check(r, nameof(r));
        RfmScores.Check(f, nameof(f));
        return Cells.FirstOrDefault(c => c.R == r && c.F == f)?.Group
            ?? throw new PortalException($"The grid has no group for R {r}, F {f}.");
    }

    /// <summary>The grid with one cell given to another group (added if the cell was missing).</summary>
    public RfmGrid With(int r, int f, string group)
    {
        RfmScores.Check(r, nameof(r));
        RfmScores.Check(f, nameof(f));
        var cells = Cells.Where(c => c.R != r || c.F != f).Append(new RfmGridCell(r, f, group))
            .OrderByDescending(c => c.R).ThenByDescending(c => c.F).ToList();
        return this with { Cells = cells };
    }

    /// <summary>
    /// Everything wrong with the grid, as messages for the user; empty when it is usable: at least one group, each
    /// with a name and no two alike (ignoring case, as people read them), and each of the 25 cells exactly once,
    /// naming a group of the list exactly.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Version != CurrentVersion)
        {
            problems.Add($"This grid has version {Version}; this portal reads version {CurrentVersion}.");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (Groups is null || Groups.Count == 0)
        {
            problems.Add("The grid needs at least one group.");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < Groups.Count; i++)
            {
                var name = Groups[i]?.Name;
                if (string.IsNullOrWhiteSpace(name))
                {
                    problems.Add($"Group {i + 1} has no name.");
                }
                else if (!seen.Add(name.Trim()))
                {
                    problems.Add($"There are two groups called “{name.Trim()}”.");
                }
                else
                {
                    names.Add(name);
                }
            }
        }
        var placed = new bool[5, 5];
        foreach (var cell in Cells ?? [])
        {
            if (cell is null)
            {
                continue;
            }
            if (!RfmScores.IsScore(cell.R) || !RfmScores.IsScore(cell.F))
            {
                problems.Add($"R {cell.R}, F {cell.F} is outside the 5×5 grid.");
                continue;
            }
            if (placed[cell.R - 1, cell.F - 1])
            {
                problems.Add($"R {cell.R}, F {cell.F} is given more than once.");
                continue;
            }
            placed[cell.R - 1, cell.F - 1] = true;
            if (string.IsNullOrWhiteSpace(cell.Group))
            {
                problems.Add($"R {cell.R}, F {cell.F} has no group.");
            }
            else if (!names.Contains(cell.Group))
            {
                problems.Add($"R {cell.R}, F {cell.F} is in “{cell.Group}”, which is not one of the groups.");
            }
        }
        var missing = new List<string>();
        for (var r = 5; r >= 1; r--)
        {
            for (var f = 5; f >= 1; f--)
            {
                if (!placed[r - 1, f - 1])
                {
                    missing.Add($"R {r}, F {f}");
                }
            }
        }
        // One message for all missing cells, so an empty grid reads as one problem rather than 25.
        if (missing.Count == 1)
        {
            problems.Add($"{missing[0]} has no group.");
        }
        else if (missing.Count > 1)
        {
            problems.Add($"{missing.Count} cells have no group: {string.Join("; ", missing)}.");
        }
        return problems;
    }

    /// <summary>Throws the <see cref="Problems"/> as one <see cref="PortalException"/>, if there are any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new PortalException(string.Join(" ", problems));
        }
    }

    /// <summary>Equal when the version, groups and cells are equal in order, so the editor can tell whether anything changed.</summary>
    public bool Equals(RfmGrid? other) =>
        other is not null && Version == other.Version && Groups.SequenceEqual(other.Groups) && Cells.SequenceEqual(other.Cells);

    public override int GetHashCode() => HashCode.Combine(Version, Groups.Count, Cells.Count);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads and validates a grid saved by <see cref="ToJson"/>; empty text is the default grid.</summary>
    /// <exception cref="PortalException">The text is not a usable grid.</exception>
    public static RfmGrid FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Default;
        }
        RfmGrid? grid;
        try
        {
            grid = JsonSerializer.Deserialize<RfmGrid>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new PortalException($"This is not an RFM grid in SegmentPortal's format ({ex.Message}).", ex);
        }
        if (grid is null)
        {
            throw new PortalException("This RFM grid is empty.");
        }
        grid.Validate();
        return grid;
    }

    /// <summary>
    /// For each cell, the index of its group in <see cref="Groups"/>, at <c>(R − 1) × 5 + (F − 1)</c>, so scoring a
    /// million customers looks groups up in an array. The grid must be valid.
    /// </summary>
    internal int[] GroupIndexByCell()
    {
        Validate();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Groups.Count; i++)
        {
            index[Groups[i].Name] = i;
        }
        var table = new int[25];
        foreach (var cell in Cells)
        {
            table[((cell.R - 1) * 5) + (cell.F - 1)] = index[cell.Group];
        }
        return table;
    }

    private static RfmGrid BuildDefault()
    {
        // Rows R 5 (top) to R 1, columns F 1 to F 5, as the grid is usually drawn.
        string[][] rows =
        [
            [RfmGroups.New, RfmGroups.PotentialLoyalists, RfmGroups.PotentialLoyalists, RfmGroups.Champions, RfmGroups.Champions],
            [RfmGroups.Promising, RfmGroups.PotentialLoyalists, RfmGroups.PotentialLoyalists, RfmGroups.Loyal, RfmGroups.Loyal],
            [RfmGroups.AboutToSleep, RfmGroups.AboutToSleep, RfmGroups.NeedAttention, RfmGroups.Loyal, RfmGroups.Loyal],
            [RfmGroups.Hibernating, RfmGroups.Hibernating, RfmGroups.AtRisk, RfmGroups.AtRisk, RfmGroups.CannotLoseThem],
            [RfmGroups.Lost, RfmGroups.Lost, RfmGroups.AtRisk, RfmGroups.AtRisk, RfmGroups.CannotLoseThem],
        ];
        var cells = new List<RfmGridCell>(25);
        for (var r = 5; r >= 1; r--)
        {
            for (var f = 5; f >= 1; f--)
            {
                cells.Add(new RfmGridCell(r, f, rows[5 - r][f - 1]));
            }
        }
        return new RfmGrid(RfmGroups.Standard, cells);
    }
}
