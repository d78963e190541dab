terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Remote state: S3 (versioned, encrypted) with a DynamoDB lock table. Neither is created here (the
  # state cannot live in what it describes); their names come from backend.hcl, copied from
  # backend.hcl.example: terraform init -backend-config=backend.hcl
  backend "s3" {
    key     = "loanhub/prod/terraform.tfstate"
    encrypt = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = local.tags
  }
}
