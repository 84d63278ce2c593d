using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class DataSources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextRefreshAt",
                table: "Datasets",
                type: "datetimeoffset",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RawTableName",
                table: "Datasets",
                type: "nvarchar(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RecipeJson",
                table: "Datasets",
                type: "nvarchar(max)",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Schedule",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "SourceJson",
                table: "Datasets",
                type: "nvarchar(max)",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SourceKind",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Status",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "IsExcluded",
                table: "DatasetColumns",
                type: "bit",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "Role",
                table: "DatasetColumns",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "SourceName",
                table: "DatasetColumns",
                type: "nvarchar(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Connections",
                columns: table => new
                {
                    Id = table.Column<int>(type: "int", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Name = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    Kind = table.Column<int>(type: "int", nullable: false),
                    Host = table.Column<string>(type: "nvarchar(253)", maxLength: 253, nullable: true),
                    Port = table.Column<int>(type: "int", nullable: true),
                    Database = table.Column<string>(type: "nvarchar(260)", maxLength: 260, nullable: false),
                    Username = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: true),
                    ProtectedPassword = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: true),
                    OptionsJson = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: true),
                    CreatedBy = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Connections", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DatasetRefreshes",
                columns: table => new
                {
                    Id = table.Column<int>(type: "int", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    DatasetId = table.Column<int>(type: "int", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Outcome = table.Column<int>(type: "int", nullable: false),
                    RowCount = table.Column<long>(type: "bigint", nullable: true),
                    TriggeredBy = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Error = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetRefreshes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DatasetRefreshes_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatasetRelationships",
                columns: table => new
                {
                    Id = table.Column<int>(type: "int", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    FromDatasetId = table.Column<int>(type: "int", nullable: false),
                    FromColumn = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    ToDatasetId = table.Column<int>(type: "int", nullable: false),
                    ToColumn = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetRelationships", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DatasetRelationships_Datasets_FromDatasetId",
                        column: x => x.FromDatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_DatasetRelationships_Datasets_ToDatasetId",
                        column: x => x.ToDatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id");
                });

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_NextRefreshAt",
                table: "Datasets",
                column: "NextRefreshAt");

            migrationBuilder.CreateIndex(
                name: "IX_Connections_Name",
                table: "Connections",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetRefreshes_DatasetId_StartedAt",
                table: "DatasetRefreshes",
                columns: new[] { "DatasetId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_DatasetRelationships_FromDatasetId_FromColumn",
                table: "DatasetRelationships",
                columns: new[] { "FromDatasetId", "FromColumn" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetRelationships_ToDatasetId",
                table: "DatasetRelationships",
                column: "ToDatasetId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Connections");

            migrationBuilder.DropTable(
                name: "DatasetRefreshes");

            migrationBuilder.DropTable(
                name: "DatasetRelationships");

            migrationBuilder.DropIndex(
                name: "IX_Datasets_NextRefreshAt",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "NextRefreshAt",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "RawTableName",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "RecipeJson",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "Schedule",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "SourceJson",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "SourceKind",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "Status",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "IsExcluded",
                table: "DatasetColumns");

            migrationBuilder.DropColumn(
                name: "Role",
                table: "DatasetColumns");

            migrationBuilder.DropColumn(
                name: "SourceName",
                table: "DatasetColumns");
        }
    }
}
