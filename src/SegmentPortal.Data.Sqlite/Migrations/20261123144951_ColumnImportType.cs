using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class ColumnImportType : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ImportType",
                table: "DatasetColumns",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
            // Existing columns were imported with the type they have now.
            migrationBuilder.Sql("UPDATE \"DatasetColumns\" SET \"ImportType\" = \"Type\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ImportType",
                table: "DatasetColumns");
        }
    }
}
