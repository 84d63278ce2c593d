using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Datasets.Recipes;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Catalog;

/// <summary>What one step does to the rows it receives.</summary>
public sealed record StepPreview(string Description, long RowsBefore, long RowsAfter, long? ValuesChanged)
{
    public long RowsRemoved => RowsBefore - RowsAfter;

    /// <summary>"N rows affected": removed rows, or values changed for steps that keep every row.</summary>
    public long Affected => RowsRemoved != 0 ? RowsRemoved : ValuesChanged ?? 0;
}

/// <summary>
/// The no-code cleaning recipe of a dataset: preview what each step would do ("N rows affected"), then apply. The raw
/// import is kept, so removing a step and saving undoes it; refreshes re-apply the saved recipe.
/// </summary>
public sealed class DatasetRecipeService(Authorizer access, DuckDbWarehouse warehouse, DatasetRebuilder rebuilder)
{
    public const int MaxSteps = 50;

    public async Task<Recipe> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        return Recipe.FromJson(dataset.RecipeJson);
    }

    public async Task<IReadOnlyList<StepPreview>> PreviewAsync(int datasetId, IReadOnlyList<RecipeStep> steps, CancellationToken cancellationToken = default)
    {
        var dataset = await RequireCleanableAsync(datasetId, steps, cancellationToken);
        await using var db = await warehouse.OpenAsync(cancellationToken);
        var (rows, changed) = await LiveTableBuilder.MeasureAsync(db, dataset.RawTableName!, DatasetRebuilder.SettingsOf(dataset), new Recipe(steps), cancellationToken);
        return steps.Select((step, k) => new StepPreview(step.Describe(), rows[k], rows[k + 1], changed[k])).ToList();
    }

    public async Task<Dataset> SaveAsync(int datasetId, IReadOnlyList<RecipeStep> steps, CancellationToken cancellationToken = default)
    {
        var dataset = await RequireCleanableAsync(datasetId, steps, cancellationToken);
        await rebuilder.RebuildAsync(dataset, DatasetRebuilder.SettingsOf(dataset), new Recipe(steps), cancellationToken);
        return await access.RequireReadableAsync(datasetId, cancellationToken);
    }

    private async Task<Dataset> RequireCleanableAsync(int datasetId, IReadOnlyList<RecipeStep> steps, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireWritableAsync(datasetId, cancellationToken);
        if (dataset.Storage == DatasetStorage.Live)
        {
            throw new PortalException(
                $"{dataset.Name} is live: its rows stay in the source and are read there on every question, so cleaning steps cannot be applied to it yet. " +
                "Clean the data in a view or in the dataset's SELECT, or import it to clean it here.");
        }
        if (dataset.RawTableName is null)
        {
            throw new PortalException($"{dataset.Name} has no original import, so it cannot be cleaned here. Import it from a file or connection.");
        }
        if (steps.Count > MaxSteps)
        {
            throw new PortalException($"A recipe has at most {MaxSteps} steps.");
        }
        return dataset;
    }
}
