using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SegmentSyncs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "WritableForSyncs",
                table: "Connections",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "SegmentSyncs",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SegmentId = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    WebhookEndpointId = table.Column<int>(type: "INTEGER", nullable: true),
                    ConnectionId = table.Column<int>(type: "INTEGER", nullable: true),
                    TableSchema = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    TableName = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    Folder = table.Column<string>(type: "TEXT", maxLength: 400, nullable: true),
                    FileFormat = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ColumnsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Schedule = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    NextRunAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SegmentSyncs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SegmentSyncs_Segments_SegmentId",
                        column: x => x.SegmentId,
                        principalTable: "Segments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SyncRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SyncId = table.Column<int>(type: "INTEGER", nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Attempt = table.Column<int>(type: "INTEGER", nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Full = table.Column<bool>(type: "INTEGER", nullable: true),
                    Sent = table.Column<long>(type: "INTEGER", nullable: false),
                    Added = table.Column<long>(type: "INTEGER", nullable: false),
                    Removed = table.Column<long>(type: "INTEGER", nullable: false),
                    DurationMs = table.Column<long>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SyncRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SyncRuns_SegmentSyncs_SyncId",
                        column: x => x.SyncId,
                        principalTable: "SegmentSyncs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SegmentSyncs_NextRunAt",
                table: "SegmentSyncs",
                column: "NextRunAt");

            migrationBuilder.CreateIndex(
                name: "IX_SegmentSyncs_SegmentId",
                table: "SegmentSyncs",
                column: "SegmentId");

            migrationBuilder.CreateIndex(
                name: "IX_SyncRuns_Status_SyncId",
                table: "SyncRuns",
                columns: new[] { "Status", "SyncId" });

            migrationBuilder.CreateIndex(
                name: "IX_SyncRuns_SyncId_Id",
                table: "SyncRuns",
                columns: new[] { "SyncId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SyncRuns");

            migrationBuilder.DropTable(
                name: "SegmentSyncs");

            migrationBuilder.DropColumn(
                name: "WritableForSyncs",
                table: "Connections");
        }
    }
}
