using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class ColumnRulesByIdAndLinkCustomerLists : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ColumnRules_DatasetId_Column_Role",
                table: "ColumnRules");

            migrationBuilder.AddColumn<bool>(
                name: "AllowRows",
                table: "PublicLinks",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "ColumnId",
                table: "ColumnRules",
                type: "INTEGER",
                nullable: true);

            // Column rules were held by name: each now holds its column's id, found by the column's name, or else by its
            // raw import name (a column renamed before this change, whose rule had silently stopped applying). A rule
            // that finds neither keeps its name and hides any column of that name.
            migrationBuilder.Sql(
                """
                UPDATE "ColumnRules" SET "ColumnId" = (SELECT c."Id" FROM "DatasetColumns" c
                    WHERE c."DatasetId" = "ColumnRules"."DatasetId" AND c."Name" = "ColumnRules"."Column");
                UPDATE "ColumnRules" SET "ColumnId" = (SELECT c."Id" FROM "DatasetColumns" c
                    WHERE c."DatasetId" = "ColumnRules"."DatasetId" AND c."SourceName" = "ColumnRules"."Column")
                WHERE "ColumnId" IS NULL AND NOT EXISTS (SELECT 1 FROM "ColumnRules" o JOIN "DatasetColumns" c ON c."Id" = o."ColumnId"
                    WHERE o."DatasetId" = "ColumnRules"."DatasetId" AND o."Role" = "ColumnRules"."Role" AND c."SourceName" = "ColumnRules"."Column");
                UPDATE "ColumnRules" SET "Column" = (SELECT c."Name" FROM "DatasetColumns" c WHERE c."Id" = "ColumnRules"."ColumnId")
                WHERE "ColumnId" IS NOT NULL;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_ColumnRules_DatasetId_ColumnId_Role",
                table: "ColumnRules",
                columns: new[] { "DatasetId", "ColumnId", "Role" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ColumnRules_DatasetId_ColumnId_Role",
                table: "ColumnRules");

            migrationBuilder.DropColumn(
                name: "AllowRows",
                table: "PublicLinks");

            migrationBuilder.DropColumn(
                name: "ColumnId",
                table: "ColumnRules");

            migrationBuilder.CreateIndex(
                name: "IX_ColumnRules_DatasetId_Column_Role",
                table: "ColumnRules",
                columns: new[] { "DatasetId", "Column", "Role" },
                unique: true);
        }
    }
}
