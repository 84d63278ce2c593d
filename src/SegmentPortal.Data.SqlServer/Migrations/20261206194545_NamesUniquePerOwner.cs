using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class NamesUniquePerOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Segments_Name",
                table: "Segments");

            migrationBuilder.DropIndex(
                name: "IX_Folders_Name",
                table: "Folders");

            migrationBuilder.DropIndex(
                name: "IX_Dashboards_Name",
                table: "Dashboards");

            migrationBuilder.CreateIndex(
                name: "IX_Segments_OwnerId_Name",
                table: "Segments",
                columns: new[] { "OwnerId", "Name" },
                unique: true,
                filter: "[OwnerId] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Folders_OwnerId_Name",
                table: "Folders",
                columns: new[] { "OwnerId", "Name" },
                unique: true,
                filter: "[OwnerId] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Dashboards_OwnerId_Name",
                table: "Dashboards",
                columns: new[] { "OwnerId", "Name" },
                unique: true,
                filter: "[OwnerId] IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Segments_OwnerId_Name",
                table: "Segments");

            migrationBuilder.DropIndex(
                name: "IX_Folders_OwnerId_Name",
                table: "Folders");

            migrationBuilder.DropIndex(
                name: "IX_Dashboards_OwnerId_Name",
                table: "Dashboards");

            migrationBuilder.CreateIndex(
                name: "IX_Segments_Name",
                table: "Segments",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Folders_Name",
                table: "Folders",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Dashboards_Name",
                table: "Dashboards",
                column: "Name",
                unique: true);
        }
    }
}
