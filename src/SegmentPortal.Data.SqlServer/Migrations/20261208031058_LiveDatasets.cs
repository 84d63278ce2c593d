using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SegmentPortal.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class LiveDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "LiveCacheMinutes",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "LiveConnectionId",
                table: "Datasets",
                type: "int",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "LiveEngine",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "LiveSchema",
                table: "Datasets",
                type: "nvarchar(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LiveSelect",
                table: "Datasets",
                type: "nvarchar(max)",
                maxLength: 20000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LiveTable",
                table: "Datasets",
                type: "nvarchar(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Storage",
                table: "Datasets",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_LiveConnectionId",
                table: "Datasets",
                column: "LiveConnectionId");

            migrationBuilder.AddForeignKey(
                name: "FK_Datasets_Connections_LiveConnectionId",
                table: "Datasets",
                column: "LiveConnectionId",
                principalTable: "Connections",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Datasets_Connections_LiveConnectionId",
                table: "Datasets");

            migrationBuilder.DropIndex(
                name: "IX_Datasets_LiveConnectionId",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveCacheMinutes",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveConnectionId",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveEngine",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveSchema",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveSelect",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "LiveTable",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "Storage",
                table: "Datasets");
        }
    }
}
