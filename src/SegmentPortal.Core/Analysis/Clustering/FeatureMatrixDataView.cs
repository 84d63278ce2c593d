using Microsoft.ML;
using Microsoft.ML.Data;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>
/// The prepared rows as an ML.NET data view with one column, <see cref="FeaturesColumn"/> (a float vector), without
/// copying them into per-row objects. It is also how a cancelled clustering stops: ML.NET's k-means never looks at
/// the context's cancel flag (and <c>MLContext.CancelExecution</c> is not public in Microsoft.ML), but it reads every
/// row on every pass, so the cursor checks the token every few thousand rows and the trainer unwinds with the
/// <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class FeatureMatrixDataView : IDataView
{
    public const string FeaturesColumn = "Features";
    private const int CancellationCheckMask = 4095;

    private readonly IReadOnlyList<float[]> _rows;
    private readonly int _dimensions;
    private readonly CancellationToken _cancellationToken;

    public FeatureMatrixDataView(IReadOnlyList<float[]> rows, int dimensions, CancellationToken cancellationToken)
    {
        _rows = rows;
        _dimensions = dimensions;
        _cancellationToken = cancellationToken;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, dimensions));
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Any(c => c.Index == 0));

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(FeatureMatrixDataView parent, bool featuresActive) : DataViewRowCursor
    {
        private long _position = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => column.Index == 0 && featuresActive;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column) || typeof(TValue) != typeof(VBuffer<float>))
            {
                throw new ArgumentOutOfRangeException(nameof(column));
            }
            ValueGetter<VBuffer<float>> getter = GetFeatures;
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool MoveNext()
        {
            if (_position + 1 >= parent._rows.Count)
            {
                _position = parent._rows.Count;
                return false;
            }
            _position++;
            if ((_position & CancellationCheckMask) == 0)
            {
                parent._cancellationToken.ThrowIfCancellationRequested();
            }
            return true;
        }

        private void GetFeatures(ref VBuffer<float> value)
        {
            var editor = VBufferEditor.Create(ref value, parent._dimensions);
            parent._rows[(int)_position].AsSpan().CopyTo(editor.Values);
            value = editor.Commit();
        }
    }
}
